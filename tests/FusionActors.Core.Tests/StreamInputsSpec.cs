using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class StreamInputsSpec
{
    private static StreamInputs Inputs(long allowedLatenessUs = 0, int maxPending = 256) =>
        new(Stream("cam", maxOutOfOrdernessUs: 0) with { FrameDurationUs = 100 * Ms, MaxPendingInputs = maxPending }, Session(Stream("cam")) with { AllowedLatenessUs = allowedLatenessUs });

    [Fact]
    public void A_frame_behind_the_watermark_is_late_and_reports_the_watermark_before_it()
    {
        var inputs = Inputs();
        Assert.Equal(new FrameTaken(false, false, EventTime.MinusInfinity), inputs.Add(Frame("cam", 0, 5 * Sec, 4)));
        Assert.Equal(5 * Sec, inputs.WatermarkUs);
        Assert.Equal(new FrameTaken(true, false, 5 * Sec), inputs.Add(Frame("cam", 1, 4 * Sec, 4))); // per-frame: late, still encoded
        Assert.Equal(5 * Sec, inputs.WatermarkUs);
    }

    [Fact]
    public void Ready_inputs_go_to_the_queue_or_are_all_shed()
    {
        var inputs = Inputs(maxPending: 1);
        inputs.Add(Frame("cam", 0, 0, 4));
        inputs.Add(Frame("cam", 1, 100 * Ms, 4));
        Assert.Equal(1, inputs.Drain(shed: false)); // the cap of one sheds the older
        Assert.Equal(1, inputs.Queue.Waiting);
        inputs.Add(Frame("cam", 2, 200 * Ms, 4));
        Assert.Equal(1, inputs.Drain(shed: true));
        Assert.Equal(1, inputs.Queue.Waiting);
    }

    [Fact]
    public void Progress_is_published_when_it_moves_on_or_when_forced()
    {
        var inputs = Inputs();
        Assert.Equal(EventTime.MinusInfinity, inputs.Progress(force: true));
        inputs.Add(Frame("cam", 0, Sec, 4));
        inputs.Drain(shed: false);
        Assert.Equal(Sec - 1, inputs.Progress()); // the input waits for the encoder: complete only before it
        Assert.Null(inputs.Progress());
        var batch = inputs.Queue.TakeBatch(0)!;
        inputs.Queue.Complete(batch.Id);
        Assert.Equal(Sec, inputs.PublishWithEvidence());
        Assert.Null(inputs.Progress());
        Assert.Equal(Sec, inputs.Progress(force: true));
        inputs.Heartbeat(3 * Sec);
        Assert.Equal(3 * Sec, inputs.Progress());
        inputs.Finish();
        Assert.Equal(EventTime.PlusInfinity, inputs.Progress());
    }
}
