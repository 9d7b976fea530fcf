using Microsoft.ML.OnnxRuntime;

namespace FusionActors.Inference;

/// <summary>
/// Reads one call's outputs per input: the embedding and the logits, each pooled over its declared time axis and
/// (for a probability output) turned into log-probabilities. Immutable and thread-safe.
/// </summary>
internal sealed class ModelOutputReader
{
    private const float ProbabilityFloor = 1e-12f;
    private readonly ModelSpec _spec;

    public ModelOutputReader(ModelSpec spec)
    {
        _spec = spec;
        var names = new List<string>();
        if (spec.Embedding is { } e) names.Add(e.Name);
        if (spec.Logits is { } l && !names.Contains(l.Name)) names.Add(l.Name);
        foreach (var s in spec.ExtraInputs)
            if (s.StateFrom is { } from && !names.Contains(from)) names.Add(from);
        Names = names.ToArray();
    }

    /// <summary>The graph outputs one call fetches.</summary>
    public string[] Names { get; }

    public int IndexOf(string output) => Array.IndexOf(Names, output);

    public EncoderOutput[] Read(string model, IReadOnlyList<OrtValue> results, int n)
    {
        var embeddings = _spec.Embedding is { } e ? Rows(model, results[IndexOf(e.Name)], n, e) : null;
        var logits = _spec.Logits is { } l ? Rows(model, results[IndexOf(l.Name)], n, l) : null;
        var outputs = new EncoderOutput[n];
        for (var i = 0; i < n; i++)
            outputs[i] = new EncoderOutput(embeddings?[i] ?? [], logits?[i] ?? []);
        return outputs;
    }

    private static float[][] Rows(string model, OrtValue value, int n, ModelOutputSpec output)
    {
        var data = value.GetTensorDataAsSpan<float>();
        var shape = value.GetTensorTypeAndShape().Shape;
        var size = output.Size;
        var rows = new float[n][];
        if (output.Pool is { } pool)
        {
            if (pool.Axis < 1 || pool.Axis >= shape.Length)
                throw new InvalidOperationException($"model '{model}': output '{output.Name}' of shape [{string.Join(",", shape)}] has no axis {pool.Axis} to pool");
            long outer = 1, inner = 1;
            for (var a = 1; a < pool.Axis; a++) outer *= shape[a];
            for (var a = pool.Axis + 1; a < shape.Length; a++) inner *= shape[a];
            var steps = shape[pool.Axis];
            if (outer * inner != size || shape[0] != n)
                throw new InvalidOperationException(
                    $"model '{model}': output '{output.Name}' of shape [{string.Join(",", shape)}] pools to {outer * inner} values per input, models.json says {size}");
            for (var i = 0; i < n; i++)
            {
                var row = new float[size];
                var item = data.Slice((int)(i * outer * steps * inner), (int)(outer * steps * inner));
                for (long o = 0; o < outer; o++)
                    for (long k = 0; k < inner; k++)
                    {
                        var acc = pool.Op == PoolOp.Max ? float.NegativeInfinity : 0f;
                        for (long t = 0; t < steps; t++)
                        {
                            var v = item[(int)((o * steps + t) * inner + k)];
                            acc = pool.Op == PoolOp.Max ? Math.Max(acc, v) : acc + v;
                        }
                        row[o * inner + k] = pool.Op == PoolOp.Max ? acc : acc / Math.Max(1, steps);
                    }
                rows[i] = row;
            }
        }
        else
        {
            if (data.Length != n * size)
                throw new InvalidOperationException(
                    $"model '{model}': output '{output.Name}' has {data.Length} values for a batch of {n}, expected {n * size}");
            for (var i = 0; i < n; i++)
                rows[i] = data.Slice(i * size, size).ToArray();
        }

        if (output.Probabilities)
            foreach (var row in rows)
                for (var k = 0; k < row.Length; k++)
                    row[k] = MathF.Log(Math.Max(row[k], ProbabilityFloor));
        return rows;
    }
}
