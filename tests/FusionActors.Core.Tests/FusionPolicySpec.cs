using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class FusionPolicySpec
{
    [Theory]
    [InlineData("adaptive", "adaptive")]
    [InlineData(" Fixed ", "fixed")]
    [InlineData("single:audio", "single:audio")]
    [InlineData("SINGLE:video", "single:video")]
    public void Policies_parse_from_their_names(string text, string expected)
    {
        Assert.Equal(expected, FusionPolicy.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("single:")]
    [InlineData("mean")]
    public void Unknown_policies_are_refused(string text)
    {
        Assert.Throws<FormatException>(() => FusionPolicy.Parse(text));
    }
}
