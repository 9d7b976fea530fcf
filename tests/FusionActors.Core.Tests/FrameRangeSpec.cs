using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Tests;

public sealed class FrameRangeSpec
{
    private static readonly StreamSpec Spec = new() { StreamId = "mic", Modality = "audio", Model = "m", FrameLength = 3 };

    [Fact]
    public void A_value_outside_the_models_range_is_rejected_as_out_of_range_naming_the_value()
    {
        var r = FrameValidator.Validate(Spec, new Frame("s", "mic", 0, 0, [0.5f, -1.5f, 0f]), 0, new ValueRange(-1, 1));
        Assert.Equal(RejectReason.OutOfRange, r?.Reason);
        Assert.Contains("value 1", r?.Detail);
    }

    [Fact]
    public void Values_at_the_edges_of_the_range_and_within_the_tolerance_pass()
    {
        Assert.Null(FrameValidator.Validate(Spec, new Frame("s", "mic", 0, 0, [-1f, 1f, 1.0005f]), 0, new ValueRange(-1, 1)));
        Assert.Null(FrameValidator.Validate(Spec, new Frame("s", "mic", 0, 0, [-7f, 9f, 0f]), 0));
    }
}
