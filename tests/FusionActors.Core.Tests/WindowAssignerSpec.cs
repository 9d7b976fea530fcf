using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class WindowAssignerSpec
{
    [Fact]
    public void Every_window_kind_on_the_wire_has_an_assigner()
    {
        Assert.Equal(Enum.GetValues<WindowKind>().Order(), WindowAssigners.All.Order());
    }

    [Theory]
    [InlineData(WindowKind.Tumbling, typeof(GridWindowAssigner), 1_000_000)]
    [InlineData(WindowKind.Sliding, typeof(GridWindowAssigner), 250_000)]
    [InlineData(WindowKind.Anchor, typeof(AnchorWindowAssigner), 40_000)]
    public void The_window_spec_picks_the_assigner(WindowKind kind, Type type, long stepUs)
    {
        var window = kind switch
        {
            WindowKind.Tumbling => WindowSpec.Tumbling(Sec),
            WindowKind.Sliding => WindowSpec.Sliding(Sec, 250 * Ms),
            _ => WindowSpec.Anchored("video", 40 * Ms),
        };
        var spec = AudioVideo(window);
        var assigner = WindowAssigners.Create(spec, new EvidenceBuffers(spec));
        Assert.IsType(type, assigner);
        Assert.Equal(stepUs, assigner.StepUs);
        Assert.IsType(type, new Alignment.Aligner(spec).Windows);
    }

    [Fact]
    public void A_window_kind_the_node_has_no_assigner_for_is_refused()
    {
        var spec = AudioVideo() with { Window = new WindowSpec((WindowKind)42, Sec, Sec) };
        Assert.Contains(SpecValidator.Problems(spec), p => p.Contains("window kind 42"));
        Assert.Throws<ArgumentException>(() => WindowAssigners.Create(spec, new EvidenceBuffers(spec)));
    }

    [Fact]
    public void A_policy_kind_the_node_has_no_class_for_is_refused()
    {
        var spec = AudioVideo() with { Policy = new FusionPolicy((FusionPolicyKind)42) };
        Assert.Contains(SpecValidator.Problems(spec), p => p.Contains("policy kind 42"));
    }
}
