using FusionActors.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class SpecValidatorSpec
{
    private static StreamSpec Mic => Stream("mic", "audio", frameLength: 320) with { SampleRateHz = 16_000, Framing = Framing.Windowed(Sec, Sec / 2) };

    private static IReadOnlyList<string> ProblemsOf(SessionSpec spec) => SpecValidator.Problems(spec);

    private static void HasOnly(SessionSpec spec, string fragment)
    {
        var p = Assert.Single(ProblemsOf(spec));
        Assert.Contains(fragment, p);
    }

    [Fact]
    public void A_sound_spec_has_no_problems()
    {
        Assert.Empty(ProblemsOf(Session(Mic, Stream("cam", "video"))));
        SpecValidator.EnsureValid(Session(Mic));
        Assert.Empty(ProblemsOf(Session(Mic, Stream("cam", "video")) with { Window = WindowSpec.Anchored("cam", 10 * Ms) }));
    }

    [Fact]
    public void Session_level_problems_are_each_reported()
    {
        HasOnly(Session(Mic) with { SessionId = " " }, "sessionId is empty");
        HasOnly(Session() with { }, "at least one stream");
        HasOnly(Session(Mic) with { AllowedLatenessUs = -1 }, "allowedLateness");
        HasOnly(Session(Mic) with { MaxBufferedEvidence = 0 }, "maxBufferedEvidence");
        HasOnly(Session(Mic) with { Policy = FusionPolicy.Single("video") }, "names a modality no stream has");
    }

    [Fact]
    public void Stream_level_problems_are_each_reported()
    {
        HasOnly(Session(Mic, Mic), "declared twice");
        HasOnly(Session(Mic with { StreamId = "" }), "stream id is empty");
        HasOnly(Session(Mic with { Modality = "" }), "modality is empty");
        HasOnly(Session(Mic with { Model = " " }), "model is empty");
        HasOnly(Session(Stream("imu", frameLength: 0)), "frameLength");
        HasOnly(Session(Mic with { MaxOutOfOrdernessUs = -1 }), "maxOutOfOrderness");
        HasOnly(Session(Mic with { IdleTimeout = TimeSpan.Zero }), "idleTimeout");
        HasOnly(Session(Mic with { MaxPendingInputs = 0 }), "maxPendingInputs");
        HasOnly(Session(Mic with { MaxBatch = 0 }), "maxBatch");
        HasOnly(Session(Mic with { PriorWeight = -0.5 }), "priorWeight");
        HasOnly(Session(Mic with { PriorWeight = double.NaN }), "priorWeight");
        HasOnly(Session(Mic with { FreshnessTauUs = 0 }), "freshnessTau");
        HasOnly(Session(Mic with { MaxFrameBytes = 4 * 320 - 1 }), "exceeds maxFrameBytes");
    }

    [Fact]
    public void Windowed_framing_problems_are_each_reported()
    {
        HasOnly(Session(Mic with { SampleRateHz = 0 }), "sampleRateHz");
        HasOnly(Session(Mic with { Framing = Framing.Windowed(Sec, 0) }), "length and hop > 0");
        HasOnly(Session(Mic with { Framing = Framing.Windowed(Sec, 2 * Sec) }), "hop longer than length");
    }

    [Fact]
    public void Window_problems_are_each_reported()
    {
        HasOnly(Session(Mic) with { Window = WindowSpec.Tumbling(0) }, "window length and hop");
        HasOnly(Session(Mic) with { Window = WindowSpec.Sliding(Sec, 0) }, "window length and hop");
        HasOnly(Session(Mic) with { Window = WindowSpec.Sliding(Sec, 2 * Sec) }, "hop must not exceed");
        HasOnly(Session(Mic) with { Window = WindowSpec.Anchored("cam", 10) }, "anchor stream 'cam'");
        HasOnly(Session(Mic) with { Window = WindowSpec.Anchored("mic", 0) }, "anchor tolerance");
    }

    [Fact]
    public void An_anchor_window_with_an_unknown_stream_and_no_tolerance_reports_both_problems()
    {
        var p = ProblemsOf(Session(Mic) with { Window = WindowSpec.Anchored("cam", 0) });
        Assert.Equal(2, p.Count);
    }

    [Fact]
    public void Every_problem_of_a_bad_spec_is_listed_in_the_exception()
    {
        var spec = Session(Mic with { Model = "", MaxBatch = 0 }) with { SessionId = "", AllowedLatenessUs = -5 };
        var ex = Assert.Throws<SpecException>(() => SpecValidator.EnsureValid(spec));
        Assert.Equal(4, ex.Problems.Count);
        Assert.Contains("maxBatch", ex.Message);
    }
}
