using FusionActors.Eval;
using FusionActors.Inference.Data;
using Xunit;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Eval.Tests;

/// <summary>
/// Runs a subset of the fault matrix once, through the real one-node pipeline (FusionNode, sharded
/// sessions, ONNX encoders), with the committed fixed weights: the first <see cref="Items"/> items of the
/// committed sample. The specs then check the targets on it.
/// </summary>
public sealed class EvalFixture : IAsyncLifetime
{
    public const int Items = 60;

    public static readonly string[] Conditions =
        ["clean", "audio-missing", "image-missing", "audio-snr-neg5", "stale-video", "jitter-out-of-order", "late-beyond-bound", "encoder-crashes"];

    public EvalReport Report { get; private set; } = null!;
    public IReadOnlyList<ConditionRun> Runs { get; private set; } = [];

    public EvalReport.ConditionReport Condition(string name) => Report.Conditions.Single(c => c.Name == name);

    public async Task InitializeAsync()
    {
        var items = AvDigitsDataset.LoadSample().Items.Take(Items).ToArray();
        var weights = FixedWeights.Load(FixedWeights.FindCommitted() ?? throw new FileNotFoundException("config/eval-fixed-weights.json"));
        var poison = new PoisonSwitch();
        await using var node = await FusionNode.StartAsync(EvalHarness.ForEvaluation(FusionOptions.Load()), wrapEncoders: poison.Wrap);
        var runner = new EvalRunner(node, poison, weights.AsDictionary());
        var runs = new List<ConditionRun>();
        foreach (var name in Conditions) runs.Add(await runner.RunAsync(EvalCondition.Get(name), items, CancellationToken.None));
        Runs = runs;
        Report = EvalHarness.Build(runs, items.Length, "sample", weights, "committed", TimeSpan.Zero, "test");
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class EvalCollection : ICollectionFixture<EvalFixture>
{
    public const string Name = "eval on the sample";
}
