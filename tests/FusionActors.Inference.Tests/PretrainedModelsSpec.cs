using FusionActors.Inference.Data;
using Xunit.Abstractions;

namespace FusionActors.Inference.Tests;

/// <summary>
/// Pretrained models nobody here trained (models/pretrained/models.json), configured by declaration only: Silero VAD
/// (recurrent state, a constant int64 input), openWakeWord's melspectrogram feeding its speech embedding (a chain,
/// embedding-only) and PaddleOCR's recogniser (image transforms, a pooled CTC sequence, a vocabulary mapped by name).
/// </summary>
public sealed class PretrainedModelsSpec(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private readonly Lazy<ModelRegistry> _registry = new(() => new ModelRegistry(ModelCatalog.Load(PretrainedModels.CatalogPath)));
    private static readonly Lazy<AvDigitsDataset> Sample = new(AvDigitsDataset.LoadSample);

    private ModelRegistry Registry => _registry.Value;

    public void Dispose()
    {
        if (_registry.IsValueCreated) _registry.Value.Dispose();
    }

    /// <summary>The 576-value windows Silero v5 takes for one second: 64 samples of context then 512 new ones (hop 512).</summary>
    private static ReadOnlyMemory<float>[] VadWindows(float[] pcm)
    {
        var padded = new float[64 + pcm.Length];
        pcm.CopyTo(padded, 64);
        var windows = new List<ReadOnlyMemory<float>>();
        for (var start = 0; start + 576 <= padded.Length; start += 512) windows.Add(padded.AsMemory(start, 576));
        return windows.ToArray();
    }

    private double MaxSpeech(OnnxEncoder vad, float[] pcm)
    {
        using var stream = vad.OpenStream();
        return stream.Encode(VadWindows(pcm)).Max(o => o.Embedding[0]);
    }

    [PretrainedFact]
    public void Silero_vad_hears_the_spoken_digits_and_not_silence_or_noise()
    {
        var vad = Registry.GetEncoder("silero-vad");
        Assert.True(vad.IsStateful);
        var items = Sample.Value.Items.Take(60).ToArray();
        var speech = items.Select(i => MaxSpeech(vad, i.Pcm)).ToArray();
        var rng = new Random(7);
        var noise = Enumerable.Range(0, 10).Select(_ => MaxSpeech(vad, Enumerable.Range(0, 16000).Select(_ => (float)(rng.NextDouble() * 0.2 - 0.1)).ToArray())).ToArray();
        var silence = MaxSpeech(vad, new float[16000]);
        output.WriteLine($"speech: mean of per-item max {speech.Average():F3}, min {speech.Min():F3}, {speech.Count(s => s > 0.5)}/{speech.Length} above 0.5; " +
                         $"white noise (±0.1): max {noise.Max():F3}; silence {silence:F3}");
        Assert.True(speech.Count(s => s > 0.5) >= 0.9 * speech.Length, $"only {speech.Count(s => s > 0.5)}/{speech.Length} spoken digits above 0.5");
        Assert.True(speech.Average() > 0.8);
        Assert.True(silence < 0.2, $"silence {silence}");
        Assert.True(noise.Max() < 0.5, $"noise {noise.Max()}");
    }

    [PretrainedFact]
    public void Silero_vad_keeps_its_state_per_stream_and_a_new_stream_starts_fresh()
    {
        var vad = Registry.GetEncoder("silero-vad");
        var windows = VadWindows(Sample.Value.Items[0].Pcm);
        using var a = vad.OpenStream();
        var first = a.Encode(windows).Select(o => o.Embedding[0]).ToArray();
        // The same inputs again on the same stream see the state the first pass left: other outputs.
        var again = a.Encode(windows).Select(o => o.Embedding[0]).ToArray();
        Assert.NotEqual(first, again);
        // A fresh stream (as a restarted encoder gets) reproduces the first pass exactly; one window at a time is the same as all at once.
        using var b = vad.OpenStream();
        var fresh = windows.Select(w => b.Encode([w])[0].Embedding[0]).ToArray();
        Assert.Equal(first, fresh);
        // Its state belongs to a stream: a batch without one is refused, not silently run from zeros.
        Assert.Throws<InvalidOperationException>(() => vad.Encode(windows));
    }

    [PretrainedFact]
    public void The_openwakeword_chain_makes_96_value_speech_embeddings_for_audio_windows()
    {
        var oww = Registry.GetEncoder("oww-embedding");
        Assert.Equal(96, oww.EmbeddingLength);
        Assert.Equal(0, oww.ClassCount);
        var items = Sample.Value.Items.Take(8).ToArray();
        var batch = oww.Encode(items.Select(i => (ReadOnlyMemory<float>)i.Pcm).ToArray());
        Assert.All(batch, o => Assert.Equal(96, o.Embedding.Length));
        Assert.All(batch, o => Assert.All(o.Embedding, v => Assert.True(float.IsFinite(v))));
        Assert.All(batch, o => Assert.Empty(o.Logits));
        // A batch is the same as one input at a time (the front-end runs per input: its dB floor is relative to its whole input).
        var single = oww.Encode(items[3].Pcm);
        for (var k = 0; k < 96; k++) Assert.Equal(batch[3].Embedding[k], single.Embedding[k], 3);
        // The embedding carries what was said: leave-one-out nearest neighbour (cosine) over the sample's spoken
        // digits names the digit far above chance (10 %), with no training at all.
        var all = Sample.Value.Items;
        var embeddings = oww.Encode(all.Select(i => (ReadOnlyMemory<float>)i.Pcm).ToArray()).Select(o => Unit(o.Embedding)).ToArray();
        var correct = 0;
        for (var i = 0; i < all.Count; i++)
        {
            var best = -1;
            var bestSim = double.NegativeInfinity;
            for (var j = 0; j < all.Count; j++)
            {
                if (j == i) continue;
                var sim = embeddings[i].Zip(embeddings[j]).Sum(p => p.First * p.Second);
                if (sim > bestSim) (best, bestSim) = (j, sim);
            }
            if (all[best].Label == all[i].Label) correct++;
        }
        var accuracy = correct / (double)all.Count;
        output.WriteLine($"openWakeWord embedding, leave-one-out 1-NN digit accuracy on samples/avdigits: {correct}/{all.Count} = {accuracy:P1}");
        Assert.True(accuracy > 0.3, $"1-NN accuracy {accuracy:P1}");
    }

    private static double[] Unit(float[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => x / norm).ToArray();
    }

    [PretrainedFact]
    public void PaddleOCR_reads_the_camera_digits_of_the_sample_zero_shot()
    {
        var ocr = Registry.GetEncoder("paddle-ocr-digits");
        Assert.Equal(6625, ocr.ClassCount);
        var map = LabelMap.Create(ocr.Spec, Digits);
        Assert.Equal(10, map.Matched);
        Assert.False(map.IsIdentity);
        var items = Sample.Value.Items;
        var outputs = ocr.Encode(items.Select(i => (ReadOnlyMemory<float>)i.Image).ToArray());
        var correct = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var logp = map.LogProbs(outputs[i].Logits, 1.0);
            Assert.Equal(1.0, logp.Sum(Math.Exp), 6);
            if (Array.IndexOf(logp, logp.Max()) == items[i].Label) correct++;
        }
        var accuracy = correct / (double)items.Count;
        output.WriteLine($"PaddleOCR zero-shot on samples/avdigits camera digits: {correct}/{items.Count} = {accuracy:P1}");
        Assert.True(accuracy >= 0.8, $"accuracy {accuracy:P1}");
    }

    [PretrainedFact]
    public void A_vocabulary_maps_by_name_whatever_the_session_order_and_a_missing_label_gets_no_evidence()
    {
        var ocr = Registry.GetEncoder("paddle-ocr-digits");
        // A 7 the model reads as 7 (it misreads some 14 % of the sample).
        var forward = Array.Empty<double>();
        var logits = Array.Empty<float>();
        foreach (var candidate in Sample.Value.Items.Where(i => i.Label == 7))
        {
            logits = ocr.Encode(candidate.Image).Logits;
            forward = LabelMap.Create(ocr.Spec, Digits).LogProbs(logits, 1.0);
            if (Array.IndexOf(forward, forward.Max()) == 7) break;
        }
        Assert.Equal(7, Array.IndexOf(forward, forward.Max()));
        var reversed = Digits.Reverse().ToArray();
        var backward = LabelMap.Create(ocr.Spec, reversed).LogProbs(logits, 1.0);
        for (var k = 0; k < 10; k++) Assert.Equal(forward[k], backward[9 - k], 9);
        Assert.Equal("7", reversed[Array.IndexOf(backward, backward.Max())]);

        // "seven" is no character of the vocabulary: the model says nothing of it (the mean of what it says of the rest).
        string[] withUnknown = [.. Digits, "seven"];
        var partial = LabelMap.Create(ocr.Spec, withUnknown).LogProbs(logits, 1.0);
        Assert.Equal(1.0, partial.Sum(Math.Exp), 6);
        Assert.Equal(partial.Take(10).Average(), partial[10], 9);
        Assert.Equal(7, Array.IndexOf(partial, partial.Max()));
        Assert.Throws<ArgumentException>(() => LabelMap.Create(ocr.Spec, ["seven", "eight"]));
    }

    [PretrainedFact]
    public void A_declaration_that_disagrees_with_a_pretrained_graph_is_refused_naming_the_model_and_the_field()
    {
        var json = File.ReadAllText(PretrainedModels.CatalogPath);
        var dir = Path.GetDirectoryName(PretrainedModels.CatalogPath)!;
        string Refusal(string from, string to)
        {
            var path = Path.Combine(dir, $"bad-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, json.Replace(from, to));
            try
            {
                var catalog = ModelCatalog.Load(path);
                return Assert.Throws<InvalidDataException>(() => new OnnxEncoder(catalog.Get("silero-vad"))).Message;
            }
            finally { File.Delete(path); }
        }

        Assert.Contains("model 'silero-vad'", Refusal("\"name\": \"sr\", \"elementType\": \"int64\"", "\"name\": \"sr\", \"elementType\": \"int32\""));
        Assert.Contains("inputs['sr'].elementType", Refusal("\"name\": \"sr\", \"elementType\": \"int64\"", "\"name\": \"sr\", \"elementType\": \"int32\""));
        Assert.Contains("nothing binds 'sr'", Refusal(",\n        { \"name\": \"sr\", \"elementType\": \"int64\", \"shape\": [], \"values\": [16000] }", ""));
        Assert.Contains("inputs['state'].shape", Refusal("\"shape\": [2, 1, 128]", "\"shape\": [2, 1, 64]"));
        Assert.Contains("stateFrom 'nope'", Refusal("\"stateFrom\": \"stateN\"", "\"stateFrom\": \"nope\""));
    }
}
