using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class WindowAssignerSpec
{
    [Theory]
    [InlineData(0, 1_000_000, 1_000_000)]
    [InlineData(0, 1_000_000, 250_000)]
    [InlineData(-300_000, 1_000_000, 1_500_000)]
    [InlineData(1_700_000_000_000_000, 2_000_000, 500_000)]
    public void The_next_window_start_after_a_time_is_a_window_start_after_it_and_after_every_window_that_contains_it(long origin, long length, long hop)
    {
        var grid = new Alignment.WindowGrid(origin, length, hop);
        foreach (var t in new[] { origin - 2 * hop - 1, origin - 1, origin, origin + 1, origin + hop - 1, origin + hop, origin + 7 * hop + hop / 3 })
        {
            var next = grid.NextStartAfter(t);
            Assert.True(next > t && next - hop <= t, $"{next} for {t}");
            Assert.Equal(0, Alignment.WindowGrid.FloorDiv(next - origin, hop) * hop - (next - origin));
            var (first, last) = grid.WindowsContaining(t);
            for (var k = first; k <= last; k++) Assert.True(grid.StartOf(k) < next);
            Assert.Equal(last + 1, grid.WindowsContaining(next).Last);
        }
        var spec = Session() with { Window = new WindowSpec(WindowKind.Sliding, length, hop), StartUs = origin };
        Assert.Equal(grid, Alignment.WindowGrid.Of(spec));
        Assert.Null(Alignment.WindowGrid.Of(Session() with { Window = WindowSpec.Anchored("a", 20_000) }));
    }

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
