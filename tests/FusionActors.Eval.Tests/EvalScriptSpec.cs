using FusionActors.Eval;
using FusionActors.Scenarios;
using FusionActors.Inference.Data;
using Xunit;

namespace FusionActors.Eval.Tests;

/// <summary>The scripts of the conditions: seeded, and honest about what a sensor sends (no actors here).</summary>
public sealed class EvalScriptSpec
{
    private static readonly IReadOnlyList<AvDigitsItem> Items = AvDigitsDataset.LoadSample().Items.Take(20).ToArray();

    private static IEnumerable<FrameAction> Frames(EvalScript s) => s.Chunks.SelectMany(c => c).OfType<FrameAction>();

    [Fact]
    public void A_condition_must_produce_the_same_frames_on_every_build()
    {
        foreach (var c in EvalCondition.All)
        {
            var a = Frames(EvalScript.Build(c, Items)).ToList();
            var b = Frames(EvalScript.Build(c, Items)).ToList();
            Assert.Equal(a.Count, b.Count);
            for (var i = 0; i < a.Count; i++)
            {
                Assert.Equal((a[i].StreamId, a[i].Seq, a[i].EventTimeUs), (b[i].StreamId, b[i].Seq, b[i].EventTimeUs));
                Assert.Equal(a[i].Payload, b[i].Payload);
            }
        }
    }

    [Fact]
    public void Every_condition_must_have_a_distinct_name_and_seed()
    {
        Assert.Equal(EvalCondition.All.Count, EvalCondition.All.Select(c => c.Name).Distinct().Count());
        Assert.Equal(EvalCondition.All.Count, EvalCondition.All.Select(c => c.Seed).Distinct().Count());
        // The 17 conditions, plus the extra -10 dB point of the SNR sweep.
        Assert.Equal(17, EvalCondition.All.Count(c => !c.Extra));
    }

    [Fact]
    public void A_missing_stream_must_send_no_frame_and_a_rising_heartbeat_in_every_chunk()
    {
        var s = EvalScript.Build(EvalCondition.Get("audio-missing"), Items);
        Assert.DoesNotContain(Frames(s), f => f.StreamId == AvDigitsSession.AudioStream);
        var beats = s.Chunks.Select(c => c.OfType<HeartbeatAction>().Single(h => h.StreamId == AvDigitsSession.AudioStream).WatermarkUs).ToList();
        Assert.Equal(beats.OrderBy(b => b), beats);
        Assert.Equal(beats.Count, beats.Distinct().Count());
        Assert.True(beats[^1] >= Items.Count * EvalScript.SecondUs - 1);
    }

    [Fact]
    public void A_heartbeat_must_never_promise_past_a_frame_that_is_still_to_be_sent()
    {
        foreach (var c in EvalCondition.All)
        {
            var s = EvalScript.Build(c, Items);
            for (var k = 0; k < s.Chunks.Count; k++)
                foreach (var h in s.Chunks[k].OfType<HeartbeatAction>())
                {
                    var later = s.Chunks.Skip(k + 1).SelectMany(x => x).OfType<FrameAction>().Where(f => f.StreamId == h.StreamId);
                    Assert.All(later, f => Assert.True(f.EventTimeUs > h.WatermarkUs, $"{c.Name}: heartbeat {h.WatermarkUs} before frame at {f.EventTimeUs}"));
                }
        }
    }

    [Fact]
    public void A_frozen_camera_must_repeat_the_previous_frame_exactly()
    {
        var s = EvalScript.Build(EvalCondition.Get("stale-video"), Items);
        var camera = Frames(s).Where(f => f.StreamId == AvDigitsSession.CameraStream).OrderBy(f => f.Seq).ToList();
        var repeats = camera.Zip(camera.Skip(1)).Count(p => p.First.Payload.AsSpan().SequenceEqual(p.Second.Payload));
        Assert.Equal(s.FrozenFrames, repeats);
        Assert.True(repeats > 0);
        // A live camera never repeats a frame exactly (sensor noise).
        var clean = Frames(EvalScript.Build(EvalCondition.Get("clean"), Items)).Where(f => f.StreamId == AvDigitsSession.CameraStream).OrderBy(f => f.Seq).ToList();
        Assert.Equal(0, clean.Zip(clean.Skip(1)).Count(p => p.First.Payload.AsSpan().SequenceEqual(p.Second.Payload)));
    }

    [Fact]
    public void Jitter_must_reorder_frames_but_keep_them_within_the_out_of_orderness_bound()
    {
        var s = EvalScript.Build(EvalCondition.Get("jitter-out-of-order"), Items);
        foreach (var stream in new[] { AvDigitsSession.AudioStream, AvDigitsSession.CameraStream })
        {
            var arrival = Frames(s).Where(f => f.StreamId == stream).ToList();
            var max = long.MinValue / 2;
            var reordered = 0;
            foreach (var f in arrival)
            {
                if (f.EventTimeUs < max) reordered++;
                Assert.True(f.EventTimeUs > max - 50_000, $"{stream} frame at {f.EventTimeUs} is behind the bound (max {max})");
                max = Math.Max(max, f.EventTimeUs);
            }
            if (stream == AvDigitsSession.AudioStream) Assert.True(reordered > 0);
        }
    }
}
