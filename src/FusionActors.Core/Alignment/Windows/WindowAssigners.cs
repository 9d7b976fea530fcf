using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment.Windows;

/// <summary>
/// Every window kind the node runs, with its validation and its <see cref="IWindowAssigner"/>: the one place that
/// maps a <see cref="WindowKind"/> to code. A new kind is its <see cref="WindowKind"/> member, its assigner class
/// and its entry here.
/// </summary>
public static class WindowAssigners
{
    private sealed record Entry(Action<SessionSpec, SpecLimits, List<string>> Validate, Func<SessionSpec, EvidenceBuffers, IWindowAssigner> Create);

    private static readonly Dictionary<WindowKind, Entry> Kinds = new()
    {
        [WindowKind.Tumbling] = new((spec, l, p) => GridWindowAssigner.Validate(spec.Window, l, hopMayExceedLength: true, p), (spec, s) => new GridWindowAssigner(spec, s)),
        [WindowKind.Sliding] = new((spec, l, p) => GridWindowAssigner.Validate(spec.Window, l, hopMayExceedLength: false, p), (spec, s) => new GridWindowAssigner(spec, s)),
        [WindowKind.Anchor] = new(AnchorWindowAssigner.Validate, (spec, s) => new AnchorWindowAssigner(spec, s)),
    };

    /// <summary>The window kinds the node runs.</summary>
    public static IReadOnlyCollection<WindowKind> All => Kinds.Keys;

    /// <summary>Adds to <paramref name="problems"/> every reason <paramref name="spec"/>'s window cannot run under <paramref name="limits"/>.</summary>
    public static void Validate(SessionSpec spec, SpecLimits limits, List<string> problems)
    {
        if (Kinds.TryGetValue(spec.Window.Kind, out var entry)) entry.Validate(spec, limits, problems);
        else problems.Add($"window kind {spec.Window.Kind} is not one this node runs");
    }

    /// <summary>The assigner of <paramref name="spec"/>'s window kind, over the aligner's <paramref name="state"/>.</summary>
    public static IWindowAssigner Create(SessionSpec spec, EvidenceBuffers state) =>
        Kinds.TryGetValue(spec.Window.Kind, out var entry)
            ? entry.Create(spec, state)
            : throw new ArgumentException($"window kind {spec.Window.Kind} is not one this node runs", nameof(spec));
}
