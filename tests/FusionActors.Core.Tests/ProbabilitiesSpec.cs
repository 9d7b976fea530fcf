using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class ProbabilitiesSpec
{
    [Fact]
    public void Log_softmax_with_a_temperature_exponentiates_to_a_distribution()
    {
        var lp = Probabilities.LogSoftmax([2f, 1f, 0f], temperature: 2);
        var p = Probabilities.Exp(lp);
        Assert.Equal(1.0, p.Sum(), 12);
        var e = new[] { Math.Exp(1), Math.Exp(0.5), 1.0 };
        for (var i = 0; i < 3; i++) Assert.Equal(e[i] / e.Sum(), p[i], 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Probabilities.LogSoftmax([1f], 0));
    }

    [Fact]
    public void Large_logits_do_not_overflow()
    {
        var p = Probabilities.Exp(Probabilities.LogSoftmax([1000f, 999f]));
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 12);
    }

    [Fact]
    public void Confidence_is_one_for_a_certain_and_zero_for_a_uniform_distribution()
    {
        Assert.Equal(1.0, Probabilities.Confidence([1, 0, 0]), 12);
        Assert.Equal(0.0, Probabilities.Confidence([0.25, 0.25, 0.25, 0.25]), 12);
        Assert.Equal(1.0, Probabilities.Confidence([1.0]), 12);
        Assert.Equal(Math.Log(2), Probabilities.Entropy([0.5, 0.5]), 12);
    }

    [Fact]
    public void Normalising_all_minus_infinity_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Probabilities.NormaliseLog([double.NegativeInfinity]));
    }
}
