using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// A windowed stream's framer keeps every input it emitted for the session's allowed lateness (a late frame re-emits
/// it), and holds the inputs the out-of-orderness keeps open. With an hour of lateness on 16 kHz audio that is 3,600
/// one-second inputs, 230 MB for one stream: the spec is refused at open, with the bytes named, instead.
/// </summary>
public class RetainedInputSpec
{
    private static StreamSpec Mic(long lengthUs, long hopUs, long outOfOrdernessUs = 50 * Ms) =>
        Stream("mic", "audio", frameLength: 320, maxOutOfOrdernessUs: outOfOrdernessUs) with
        {
            SampleRateHz = 16_000, Framing = Framing.Windowed(lengthUs, hopUs),
        };

    [Fact]
    public void An_hour_of_lateness_on_16_kHz_audio_is_refused_naming_what_the_framer_would_hold()
    {
        var spec = Session(Mic(Sec, Sec)) with { AllowedLatenessUs = 3_600 * Sec };
        var problem = Assert.Single(SpecValidator.Problems(spec));
        Assert.Contains("would hold", problem);
        Assert.Contains($"{SpecLimits.Default.MaxRetainedInputBytes}", problem);

        // What it would have held: fed frames in order, the framer keeps every input of the last hour.
        var framer = FramerFactory.Create(spec.Streams[0], spec);
        var watermark = new StreamWatermark(spec.Streams[0].MaxOutOfOrdernessUs);
        for (long seq = 0, t = 0; t < 120 * Sec; seq++, t += 20 * Ms)
            Feed(framer, watermark, Frame("mic", seq, t, 320));
        Assert.True(framer.HeldInputs >= 119, $"{framer.HeldInputs} inputs held after two minutes");
    }

    [Fact]
    public void The_default_specs_and_a_few_seconds_of_lateness_pass()
    {
        Assert.Empty(SpecValidator.Problems(Session(Mic(Sec, Sec)) with { AllowedLatenessUs = 2 * Sec }));
        Assert.Empty(SpecValidator.Problems(Session(Mic(Sec, 10 * Ms)) with { AllowedLatenessUs = 2 * Sec }));
    }

    [Fact]
    public void The_bound_is_for_the_whole_session_summed_over_its_streams()
    {
        // One stream fits (about 38 MB with 10 ms hops and 5 s of lateness), two of them do not.
        var one = Mic(Sec, 10 * Ms);
        Assert.Empty(SpecValidator.Problems(Session(one) with { AllowedLatenessUs = 5 * Sec }));
        var two = Session(one, one with { StreamId = "mic2" }) with { AllowedLatenessUs = 5 * Sec };
        Assert.Contains(SpecValidator.Problems(two), p => p.Contains("would hold"));
        // A node may raise the bound.
        Assert.Empty(SpecValidator.Problems(two, SpecLimits.Default with { MaxRetainedInputBytes = 256L << 20 }));
    }

    [Theory]
    [InlineData(1_000_000, 1_000_000, 50_000, 0)]
    [InlineData(1_000_000, 1_000_000, 50_000, 30_000_000)]
    [InlineData(1_000_000, 10_000, 50_000, 2_000_000)]
    [InlineData(500_000, 250_000, 2_000_000, 10_000_000)]
    [InlineData(64_000, 1_000, 0, 1_000_000)]
    public void What_the_framer_holds_stays_within_what_the_validator_counts(long lengthUs, long hopUs, long outOfOrdernessUs, long latenessUs)
    {
        var stream = Mic(lengthUs, hopUs, outOfOrdernessUs);
        var spec = Session(stream) with { AllowedLatenessUs = latenessUs };
        var bound = WindowedFramer.RetainedBytes(stream, spec);
        var framer = FramerFactory.Create(stream, spec);
        var watermark = new StreamWatermark(outOfOrdernessUs);
        var rng = new Random(7);
        long most = 0;
        for (long seq = 0, t = 0; t < 60 * Sec; seq++, t += 20 * Ms)
        {
            // Mostly in order, some frames as late as the out-of-orderness allows, a few later still.
            var at = rng.Next(10) switch { 0 => t - outOfOrdernessUs, 1 => t - latenessUs, _ => t };
            Feed(framer, watermark, Frame("mic", seq, Math.Max(0, at), 320));
            most = Math.Max(most, (long)framer.HeldInputs * stream.InputLength * sizeof(float));
        }
        Assert.True(most <= bound, $"the framer held {most} bytes, over the {bound} counted");
        Assert.True(most * 3 >= bound || bound < 1 << 20, $"the count {bound} is far above the {most} bytes held");
    }

    /// <summary>As the stream does: the frame against the watermark before it, then the watermark moves, then what it completes is taken.</summary>
    private static void Feed(IFramer framer, StreamWatermark watermark, Protocol.Frame frame)
    {
        framer.Add(frame, watermark.CurrentUs);
        watermark.OnEvent(frame.EventTimeUs);
        while (framer.TryTake(watermark.CurrentUs, out _)) { }
    }
}
