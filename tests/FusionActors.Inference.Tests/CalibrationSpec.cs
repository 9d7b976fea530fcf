namespace FusionActors.Inference.Tests;

public sealed class CalibrationSpec
{
    [Fact]
    public void Softmax_must_sum_to_one_and_keep_the_order_of_the_logits()
    {
        var p = Calibration.Softmax([1f, 3f, 2f]);
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.True(p[1] > p[2] && p[2] > p[0]);
        Assert.Equal(Math.Exp(3) / (Math.Exp(1) + Math.Exp(2) + Math.Exp(3)), p[1], 12);
    }

    [Fact]
    public void A_higher_temperature_must_flatten_the_distribution()
    {
        float[] logits = [0f, 4f];
        Assert.True(Calibration.Softmax(logits, 2.0)[1] < Calibration.Softmax(logits, 1.0)[1]);
        Assert.True(Calibration.Softmax(logits, 0.5)[1] > Calibration.Softmax(logits, 1.0)[1]);
        Assert.Equal(1 / (1 + Math.Exp(-2.0)), Calibration.Softmax(logits, 2.0)[1], 12);
    }

    [Fact]
    public void Softmax_must_not_overflow_on_large_logits()
    {
        var p = Calibration.Softmax([1000f, 999f, -1000f]);
        Assert.All(p, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(1 / (1 + Math.Exp(-1.0)), p[0], 9);
    }

    [Fact]
    public void Softmax_must_refuse_a_temperature_that_is_not_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Calibration.Softmax([1f], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Calibration.Softmax([1f], double.NaN));
    }

    [Fact]
    public void Predictions_that_are_right_as_often_as_they_claim_must_have_zero_ece()
    {
        // In every bin the share of right answers equals the mean confidence: 3 of 4 at 0.75, 2 of 2 at 1.0.
        var predictions = new[] { (0.75, true), (0.75, true), (0.75, true), (0.75, false), (1.0, true), (1.0, true) };
        Assert.Equal(0.0, Calibration.ExpectedCalibrationError(predictions, 15), 12);
    }

    [Fact]
    public void Ece_must_weight_each_bin_gap_by_its_share()
    {
        // Bin of 0.95 (2 items, 1 right): gap 0.45; bin of 0.55 (2 items, 2 right): gap 0.45 -> 0.45.
        var a = Calibration.ExpectedCalibrationError([(0.95, true), (0.95, false), (0.55, true), (0.55, true)], 15);
        Assert.Equal(0.45, a, 12);
        // Overconfident: 3 items at 0.9, none right, plus 1 right at 1.0 -> 0.75 * 0.9 + 0.25 * 0 = 0.675.
        var b = Calibration.ExpectedCalibrationError([(0.9, false), (0.9, false), (0.9, false), (1.0, true)], 15);
        Assert.Equal(0.675, b, 12);
    }

    [Fact]
    public void Ece_must_put_a_confidence_on_a_bin_edge_into_the_lower_bin()
    {
        // With 2 bins, 0.5 belongs to [0, 0.5]: gap |0.5 - 1| = 0.5 alone; were it in the upper bin with 0.9/false,
        // the gap would be |0.7 - 0.5| = 0.2.
        var ece = Calibration.ExpectedCalibrationError([(0.5, true), (0.9, false)], 2);
        Assert.Equal(0.5 * 0.5 + 0.5 * 0.9, ece, 12);
    }

    [Fact]
    public void Ece_must_refuse_no_predictions_and_confidences_outside_zero_to_one()
    {
        Assert.Throws<ArgumentException>(() => Calibration.ExpectedCalibrationError([], 15));
        Assert.Throws<ArgumentOutOfRangeException>(() => Calibration.ExpectedCalibrationError([(1.2, true)], 15));
        Assert.Throws<ArgumentOutOfRangeException>(() => Calibration.ExpectedCalibrationError([(0.5, true)], 0));
    }

    [Fact]
    public void Predict_must_return_the_arg_max_and_its_probability()
    {
        var (label, confidence) = Calibration.Predict([0.1f, 2f, -1f], 1.0);
        Assert.Equal(1, label);
        Assert.Equal(Calibration.Softmax([0.1f, 2f, -1f])[1], confidence, 12);
    }
}
