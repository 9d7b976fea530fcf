namespace FusionActors.Inference.Tests;

[Collection(CommittedModelsCollection.Name)]
public sealed class EncoderConcurrencySpec(CommittedModelsFixture models)
{
    [Fact]
    public void A_batch_must_give_the_same_outputs_as_its_inputs_one_by_one()
    {
        foreach (var (encoder, inputs) in new[] { (models.Audio, models.SamplePcm.Take(24).ToArray()),
                     (models.Image, models.SampleImages.Take(40).ToArray()) })
        {
            var batched = encoder.Encode(inputs);
            for (var i = 0; i < inputs.Length; i++)
            {
                var single = encoder.Encode(inputs[i]);
                AssertClose(single.Embedding, batched[i].Embedding, 1e-4, $"{encoder.Name} embedding {i}");
                AssertClose(single.Logits, batched[i].Logits, 1e-4, $"{encoder.Name} logits {i}");
            }
        }
    }

    [Fact]
    public void Disposing_a_model_while_other_threads_encode_with_it_lets_their_calls_finish_and_refuses_later_ones()
    {
        // A reload or a node stop disposes a model that sessions may be running at that moment: that must never
        // release the native session under a running call (the process would crash), only refuse calls that start after.
        var images = models.SampleImages.Take(32).ToArray();
        for (var round = 0; round < 20; round++)
        {
            var encoder = new OnnxEncoder(models.Image.Spec);
            using var start = new Barrier(4);
            var finished = 0;
            var refused = 0;
            var workers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                while (true)
                {
                    try
                    {
                        Assert.Equal(images.Length, encoder.Encode(images).Count);
                        Interlocked.Increment(ref finished);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref refused);
                        return;
                    }
                }
            })).ToArray();
            foreach (var w in workers) w.Start();
            start.SignalAndWait();
            // Let the calls get going (a call has started once any has finished), then dispose under them.
            SpinWait.SpinUntil(() => Volatile.Read(ref finished) > round % 4);
            encoder.Dispose();
            foreach (var w in workers) Assert.True(w.Join(TimeSpan.FromSeconds(60)), "a worker did not end");
            Assert.Equal(3, refused);
            Assert.Throws<ObjectDisposedException>(() => encoder.Encode(images));
        }
    }

    [Fact]
    public void Concurrent_encodes_from_several_threads_must_equal_sequential_ones()
    {
        const int threads = 6;
        const int rounds = 4;
        var encoders = new[] { models.Audio, models.Image };
        var audio = models.SamplePcm;
        var images = models.SampleImages;
        // Each worker has its own slice and batch size, so batches of different shapes run at the same time.
        ReadOnlyMemory<float>[] Work(int worker) => worker % 2 == 0
            ? audio.Skip(worker * 7).Take(3 + worker).ToArray()
            : images.Skip(worker * 11).Take(5 + 3 * worker).ToArray();

        var expected = Enumerable.Range(0, threads).Select(w => encoders[w % 2].Encode(Work(w))).ToArray();

        var actual = new IReadOnlyList<EncoderOutput>[threads, rounds];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
        {
            var work = Work(w);
            start.SignalAndWait();
            for (var r = 0; r < rounds; r++)
                actual[w, r] = encoders[w % 2].Encode(work);
        })).ToArray();
        foreach (var t in workers)
            t.Start();
        foreach (var t in workers)
            t.Join();

        for (var w = 0; w < threads; w++)
        {
            for (var r = 0; r < rounds; r++)
            {
                Assert.NotNull(actual[w, r]);
                Assert.Equal(expected[w].Count, actual[w, r].Count);
                for (var i = 0; i < expected[w].Count; i++)
                {
                    AssertClose(expected[w][i].Embedding, actual[w, r][i].Embedding, 1e-6, $"worker {w} round {r} item {i}");
                    AssertClose(expected[w][i].Logits, actual[w, r][i].Logits, 1e-6, $"worker {w} round {r} item {i}");
                }
            }
        }
    }

    [Fact]
    public void The_registry_must_hand_out_one_encoder_per_model_to_every_thread()
    {
        using var registry = new ModelRegistry(models.Registry.Catalog);
        var seen = new OnnxEncoder[8];
        using var start = new Barrier(seen.Length);
        var workers = Enumerable.Range(0, seen.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            seen[i] = registry.GetEncoder("image-digits");
        })).ToArray();
        foreach (var t in workers)
            t.Start();
        foreach (var t in workers)
            t.Join();
        Assert.All(seen, e => Assert.Same(seen[0], e));
        Assert.Equal(["image-digits"], registry.OpenModels);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= tolerance * Math.Max(1.0, Math.Abs(expected[i])),
                $"{what}[{i}]: {expected[i]} vs {actual[i]} (diff {diff})");
        }
    }
}
