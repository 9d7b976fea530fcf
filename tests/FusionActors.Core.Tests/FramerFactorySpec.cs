using FusionActors.Core.Streams;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class FramerFactorySpec
{
    [Fact]
    public void A_stream_gets_the_framer_its_framing_names()
    {
        var session = Session(Stream("cam")) with { StartUs = 5 * Sec, AllowedLatenessUs = Sec };
        Assert.IsType<PerFrameFramer>(FramerFactory.Create(Stream("cam"), session));
        var audio = Stream("mic", frameLength: 160) with { SampleRateHz = 16_000, Framing = Framing.Windowed(Sec, Sec / 2) };
        Assert.IsType<WindowedFramer>(FramerFactory.Create(audio, session));
        Assert.IsType<PerFrameFramer>(FramerFactory.Create(Stream("cam") with { Framing = new Framing((FramingKind)99) }, session));
    }

    [Fact]
    public void Late_marks_travel_as_the_negative_window_ends_clients_know()
    {
        Assert.Equal(-1, LateMark.PastAllowedLateness.AsWindowEndUs());
        Assert.Equal(-2, LateMark.Quarantined.AsWindowEndUs());
        Assert.Equal(LateMark.Quarantined, LateMarks.FromWindowEndUs(-2));
        Assert.Null(LateMarks.FromWindowEndUs(3 * Sec));
    }
}
