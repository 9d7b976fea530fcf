using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The encoder actor's log-probabilities: inputs whose logits are bit for bit the previous ones' share one array, and
/// every input's log-probabilities are bit for bit the log softmax of its own logits, also when the model writes each
/// batch's logits into the same buffers (the sharing compares values, not references).
/// </summary>
public sealed class EncoderLogProbsSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const int Classes = 4;
    private const double Temperature = 1.7;

    /// <summary>A model that overwrites one logits buffer per position in the batch on every call, with the values it is told.</summary>
    private sealed class ReusingEncoder : IEncoder
    {
        private readonly EncoderOutput[] _outputs = Enumerable.Range(0, 8).Select(_ => new EncoderOutput([], new float[Classes])).ToArray();
        public float[][] Next { get; set; } = [];

        public string Name => "reusing";
        public int InputLength => 1;
        public int EmbeddingLength => 0;
        public int ClassCount => Classes;

        public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
        {
            for (var i = 0; i < inputs.Count; i++) Next[i].CopyTo(_outputs[i].Logits, 0);
            return _outputs.Take(inputs.Count).ToArray();
        }
    }

    private static EncoderInput Input(long t) => new("s", t, t + 1, [0f], 1.0, t, t);

    [Fact]
    public void Log_probabilities_are_those_of_each_inputs_own_logits_and_shared_only_between_equal_logits()
    {
        var model = new ReusingEncoder();
        var encoder = Sys.ActorOf(EncoderActor.Props(new ResolvedEncoder(model, Temperature), "imu", "s1"));
        var rng = new Random(7);
        float[] Random() => Enumerable.Range(0, Classes).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
        var same = Random();
        var batches = new List<float[][]>
        {
            new[] { same, (float[])same.Clone(), Random(), (float[])same.Clone() },
            new[] { (float[])same.Clone(), new[] { 0f, -0f, 1f, 2f }, new[] { -0f, 0f, 1f, 2f }, Random() },
            Enumerable.Range(0, 8).Select(_ => Random()).ToArray(),
        };
        Evidence? previous = null;
        float[]? previousLogits = null;
        for (var b = 0; b < batches.Count; b++)
        {
            model.Next = batches[b];
            var inputs = batches[b].Select((_, i) => Input(b * 100 + i)).ToArray();
            encoder.Tell(new EncoderActor.Encode(b + 1, inputs), TestActor);
            var encoded = ExpectMsg<EncoderActor.Encoded>(Wait);
            Assert.Equal(inputs.Length, encoded.Evidence.Count);
            for (var i = 0; i < inputs.Length; i++)
            {
                var logits = batches[b][i];
                var e = encoded.Evidence[i];
                Assert.Equal(Bits(Probabilities.LogSoftmax(logits, Temperature)), Bits(e.LogProbs));
                var equalToPrevious = previousLogits is not null && Bits(logits).SequenceEqual(Bits(previousLogits));
                Assert.Equal(equalToPrevious, ReferenceEquals(previous?.LogProbs, e.LogProbs));
                (previous, previousLogits) = (e, logits);
            }
        }
    }

    private static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
