using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class StreamSpecSpec
{
    [Fact]
    public void Windowed_audio_derives_its_frame_span_and_input_length_from_the_sample_rate()
    {
        var mic = Stream("mic", frameLength: 320) with { SampleRateHz = 16_000, Framing = Framing.Windowed(Sec, Sec / 2) };
        Assert.Equal(20 * Ms, mic.FrameSpanUs);
        Assert.Equal(16_000, mic.InputLength);
        Assert.Equal("windowed(1000000us,500000us)", mic.Framing.ToString());
    }

    [Fact]
    public void A_per_frame_stream_takes_its_span_from_the_frame_duration()
    {
        var cam = Stream("cam", frameLength: 12) with { FrameDurationUs = 33 * Ms };
        Assert.Equal((33 * Ms, 12), (cam.FrameSpanUs, cam.InputLength));
    }
}
