using FusionActors.Inference.Data;

namespace FusionActors.Inference.Tests;

/// <summary>The committed models (found like a fresh clone finds them) and the committed test sample, loaded once.</summary>
public sealed class CommittedModelsFixture : IDisposable
{
    public CommittedModelsFixture()
    {
        Registry = ModelRegistry.FromDefaultCatalog();
        Sample = AvDigitsDataset.LoadSample();
    }

    public ModelRegistry Registry { get; }

    public AvDigitsDataset Sample { get; }

    public OnnxEncoder Audio => Registry.GetEncoder("audio-digits");

    public OnnxEncoder Image => Registry.GetEncoder("image-digits");

    public IReadOnlyList<ReadOnlyMemory<float>> SamplePcm => Sample.Items.Select(i => (ReadOnlyMemory<float>)i.Pcm).ToArray();

    public IReadOnlyList<ReadOnlyMemory<float>> SampleImages => Sample.Items.Select(i => (ReadOnlyMemory<float>)i.Image).ToArray();

    public void Dispose() => Registry.Dispose();
}

[CollectionDefinition(Name)]
public sealed class CommittedModelsCollection : ICollectionFixture<CommittedModelsFixture>
{
    public const string Name = "committed models";
}
