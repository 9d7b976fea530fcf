using FusionActors.Eval;
using Xunit;

namespace FusionActors.Eval.Tests;

/// <summary>The faults really went through the server: its own counters show them.</summary>
[Collection(EvalCollection.Name)]
public sealed class EvalPipelineSpec(EvalFixture eval)
{
    [Fact]
    public void Every_window_of_the_clean_run_must_get_a_fused_result_in_every_session()
    {
        foreach (var (policy, m) in eval.Condition("clean").Policies)
            Assert.True(m.Coverage == 1.0, $"{policy}: coverage {m.Coverage}");
    }

    [Fact]
    public void Jitter_within_the_out_of_orderness_bound_must_make_no_frame_late()
    {
        var p = eval.Condition("jitter-out-of-order").Pipeline!;
        Assert.Equal(0, p.FramesLate);
        Assert.Equal(1.0, eval.Condition("jitter-out-of-order").Policies[EvalPolicies.Adaptive].Coverage);
    }

    [Fact]
    public void Frames_later_than_the_allowed_lateness_must_go_to_the_side_output_and_be_counted()
    {
        var p = eval.Condition("late-beyond-bound").Pipeline!;
        Assert.True(p.VeryLateFramesSent > 0);
        Assert.True(p.FramesTooLate > 0, "no frame reached the late side output");
        Assert.True(p.LateEvidence > 0, "no late evidence was published");
        Assert.Equal(1.0, eval.Condition("late-beyond-bound").Policies[EvalPolicies.Adaptive].Coverage);
    }

    [Fact]
    public void Encoder_crashes_must_restart_the_encoder_and_quarantine_the_poison_inputs()
    {
        var c = eval.Condition("encoder-crashes");
        Assert.True(c.Pipeline!.EncoderRestarts > 0);
        Assert.True(c.Pipeline!.Quarantined > 0);
        // Quarantine loses one input, never the session: the camera's 10 frames per window keep image-only covered.
        Assert.Equal(1.0, c.Policies[EvalPolicies.ImageOnly].Coverage);
        Assert.Equal(1.0, c.Policies[EvalPolicies.Fixed].Coverage);
    }

    [Fact]
    public void A_missing_stream_must_only_be_heartbeated_and_the_single_policy_of_it_must_report_no_evidence()
    {
        var c = eval.Condition("audio-missing");
        Assert.Equal(0.0, c.Policies[EvalPolicies.AudioOnly].Coverage);
        Assert.Equal(EvalFixture.Items, c.Pipeline!.WindowsWithMissingModality);
        Assert.Equal(0.0, c.Policies[EvalPolicies.Adaptive].MeanWeights["audio"]);
    }
}
