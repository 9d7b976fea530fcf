using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

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

public class SpecLimitsSpec
{
    private static StreamSpec Mic => Stream("mic", "audio", frameLength: 320) with { SampleRateHz = 16_000, Framing = Framing.Windowed(Sec, Sec / 2) };

    private static void Refused(SessionSpec spec, string fragment) =>
        Assert.Contains(SpecValidator.Problems(spec), p => p.Contains(fragment));

    [Fact]
    public void Every_field_that_costs_the_node_has_an_upper_bound_and_a_spec_beyond_it_is_refused_with_the_reason()
    {
        var s = Session(Mic);
        Refused(s with { Streams = [Mic with { Framing = Framing.Windowed(Sec, 1) }] }, "shorter than one sample");
        Refused(s with { Streams = [Mic with { Framing = Framing.Windowed(Sec, 100) }] }, "inputs per instant");
        Refused(s with { Streams = [Mic with { MaxSeqAhead = 2_000_000_000 }] }, "maxSeqAhead");
        Refused(s with { Streams = [Mic with { MaxSeqAhead = int.MaxValue }] }, "maxSeqAhead");
        Refused(s with { Streams = [Mic with { SampleRateHz = double.NaN }] }, "sampleRateHz");
        Refused(s with { Streams = [Mic with { PriorWeight = double.PositiveInfinity }] }, "priorWeight");
        Refused(s with { Streams = [Mic with { MaxPendingInputs = int.MaxValue }] }, "maxPendingInputs");
        Refused(s with { Streams = [Mic with { MaxBatch = 1 << 20 }] }, "maxBatch");
        Refused(s with { Streams = [Mic with { MaxOutOfOrdernessUs = long.MaxValue }] }, "maxOutOfOrderness");
        Refused(s with { Streams = [Mic with { MaxFutureSkewUs = long.MaxValue }] }, "maxFutureSkew");
        Refused(s with { Streams = [Mic with { IdleTimeout = TimeSpan.FromDays(30) }] }, "idleTimeout");
        Refused(s with { Streams = [Mic with { MaxFrameBytes = int.MaxValue }] }, "maxFrameBytes");
        Refused(s with { Streams = [Mic with { StreamId = new string('x', 10_000) }] }, "longer than 128");
        Refused(s with { Streams = Enumerable.Range(0, 65).Select(i => Mic with { StreamId = $"m{i}" }).ToArray() }, "65 streams");
        Refused(s with { Labels = Enumerable.Range(0, 2000).Select(i => $"{i}").ToArray() }, "2000 labels");
        Refused(s with { Window = WindowSpec.Sliding(Sec, 1) }, "window hop");
        Refused(s with { Window = WindowSpec.Sliding(3_600 * Sec, 10 * Ms) }, "windows per instant");
        Refused(s with { Window = WindowSpec.Tumbling(long.MaxValue) }, "window length");
        Refused(s with { AllowedLatenessUs = long.MaxValue }, "allowedLateness");
        Refused(s with { MaxBufferedEvidence = int.MaxValue }, "maxBufferedEvidence");
        Refused(s with { FixedWeights = new Dictionary<string, double> { ["audio"] = double.NaN } }, "fixed weight");
    }

    [Fact]
    public void Nulls_that_only_json_can_carry_are_refused_before_any_field_is_read()
    {
        Assert.Contains("required", Assert.Single(SpecValidator.Problems(null!)));
        Assert.Contains("null", string.Join(";", SpecValidator.Problems(Session(Mic) with { Streams = [null!] })));
        Assert.Contains("empty", string.Join(";", SpecValidator.Problems(Session(Mic) with { SessionId = null! })));
    }

    [Fact]
    public void The_limits_are_the_node_s_to_set()
    {
        var tight = new SpecLimits { MaxStreams = 1 };
        Assert.Empty(SpecValidator.Problems(Session(Mic)));
        Assert.Contains(SpecValidator.Problems(Session(Mic, Mic with { StreamId = "mic2" }), tight), p => p.Contains("more than 1"));
    }
}
