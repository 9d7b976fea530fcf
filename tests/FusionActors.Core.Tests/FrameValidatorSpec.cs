using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Tests;

public class FrameValidatorSpec
{
    private static readonly Protocol.Specs.StreamSpec Spec = TestData.Stream("imu", frameLength: 4) with { MaxFutureSkewUs = 5 * TestData.Sec, MaxFrameBytes = 64 };

    [Fact]
    public void A_good_frame_passes()
    {
        Assert.Null(FrameValidator.Validate(Spec, TestData.Frame("imu", 0, 100, 4), sessionNowUs: 0));
        Assert.Null(FrameValidator.Validate(Spec, TestData.Frame("imu", 0, 100, 4), sessionNowUs: null));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(0)]
    public void A_payload_of_the_wrong_size_is_rejected(int length)
    {
        var r = FrameValidator.Validate(Spec, TestData.Frame("imu", 0, 0, length), 0);
        Assert.Equal(RejectReason.WrongPayloadSize, r?.Reason);
    }

    [Fact]
    public void A_missing_payload_is_rejected_as_the_wrong_size()
    {
        var r = FrameValidator.Validate(Spec, new Frame("s1", "imu", 0, 0, null!), 0);
        Assert.Equal(RejectReason.WrongPayloadSize, r?.Reason);
    }

    [Fact]
    public void A_payload_over_max_frame_bytes_is_rejected_as_too_large()
    {
        var r = FrameValidator.Validate(Spec, TestData.Frame("imu", 0, 0, 17), 0);
        Assert.Equal(RejectReason.PayloadTooLarge, r?.Reason);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_non_finite_value_is_rejected(float bad)
    {
        var frame = TestData.Frame("imu", 0, 0, 4);
        frame.Payload[2] = bad;
        var r = FrameValidator.Validate(Spec, frame, 0);
        Assert.Equal(RejectReason.NotFinite, r?.Reason);
        Assert.Contains("value 2", r?.Detail);
    }

    [Fact]
    public void An_event_time_beyond_the_future_skew_is_rejected_and_one_at_the_limit_passes()
    {
        var now = 10 * TestData.Sec;
        Assert.Null(FrameValidator.Validate(Spec, TestData.Frame("imu", 0, now + 5 * TestData.Sec, 4), now));
        var r = FrameValidator.Validate(Spec, TestData.Frame("imu", 0, now + 5 * TestData.Sec + 1, 4), now);
        Assert.Equal(RejectReason.TooFarInFuture, r?.Reason);
    }

    [Fact]
    public void Without_a_session_clock_the_future_skew_is_not_checked()
    {
        Assert.Null(FrameValidator.Validate(Spec, TestData.Frame("imu", 0, long.MaxValue / 2, 4), null));
    }
}
