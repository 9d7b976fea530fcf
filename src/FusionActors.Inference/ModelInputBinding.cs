using Microsoft.ML.OnnxRuntime;

namespace FusionActors.Inference;

/// <summary>
/// Binds one call's graph inputs: the payload tensor (converted to the declared element type), the constant tensors and
/// the recurrent state of a stream. Immutable and thread-safe (the state is the caller's).
/// </summary>
internal sealed class ModelInputBinding
{
    private readonly ModelSpec _spec;

    public ModelInputBinding(ModelSpec spec) => _spec = spec;

    /// <summary>A fresh state for a stream; null for a stateless model.</summary>
    public RecurrentState? InitialState() => _spec.IsStateful ? new RecurrentState(_spec.ExtraInputs.Where(i => i.StateFrom is not null).ToArray()) : null;

    public Bound Bind(Memory<float> payload, long[] shape, RecurrentState? state)
    {
        var names = new List<string>(1 + _spec.ExtraInputs.Count) { _spec.Input.Name };
        var values = new List<OrtValue>(names.Capacity);
        try
        {
            values.Add(Tensor(_spec.Input.ElementType, payload.Span, shape, payload));
            foreach (var extra in _spec.ExtraInputs)
            {
                var dims = extra.Shape.Select(d => (long)d).ToArray();
                if (extra.StateFrom is not null)
                {
                    if (state is null)
                        throw new InvalidOperationException($"model '{_spec.Name}': input '{extra.Name}' is a recurrent state and no stream state was given");
                    var s = state.Values[extra.Name];
                    values.Add(Tensor(extra.ElementType, s, dims, null));
                }
                else
                {
                    var v = extra.Values.Select(x => (float)x).ToArray();
                    values.Add(Tensor(extra.ElementType, v, dims, null, extra.Values));
                }
                names.Add(extra.Name);
            }
            return new Bound(names.ToArray(), values.ToArray());
        }
        catch
        {
            foreach (var v in values) v.Dispose();
            throw;
        }
    }

    private static OrtValue Tensor(TensorElementKind kind, ReadOnlySpan<float> values, long[] shape, Memory<float>? owned,
        IReadOnlyList<double>? exact = null)
    {
        switch (kind)
        {
            case TensorElementKind.Float32:
                return owned is { } m
                    ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, m, shape)
                    : OrtValue.CreateTensorValueFromMemory(values.ToArray(), shape);
            case TensorElementKind.Int64:
            {
                var a = new long[values.Length];
                for (var i = 0; i < a.Length; i++) a[i] = exact is null ? (long)Math.Round(values[i]) : (long)exact[i];
                return OrtValue.CreateTensorValueFromMemory(a, shape);
            }
            case TensorElementKind.Int32:
            {
                var a = new int[values.Length];
                for (var i = 0; i < a.Length; i++) a[i] = exact is null ? (int)Math.Round(values[i]) : (int)exact[i];
                return OrtValue.CreateTensorValueFromMemory(a, shape);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    public sealed class Bound(string[] names, OrtValue[] values) : IDisposable
    {
        public string[] Names { get; } = names;
        public OrtValue[] Values { get; } = values;

        public void Dispose()
        {
            foreach (var v in Values) v.Dispose();
        }
    }
}

/// <summary>
/// A stream's recurrent state: the current value of each state input, replaced by its source output after every call.
/// Starts at the declared initial values (zeros when none). Not thread-safe: it belongs to one stream.
/// </summary>
internal sealed class RecurrentState
{
    private readonly ExtraInputSpec[] _inputs;

    public RecurrentState(ExtraInputSpec[] inputs)
    {
        _inputs = inputs;
        Values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var i in inputs)
        {
            var v = new float[i.Length];
            if (i.Values.Count == v.Length)
                for (var k = 0; k < v.Length; k++) v[k] = (float)i.Values[k];
            else if (i.Values.Count == 1)
                Array.Fill(v, (float)i.Values[0]);
            Values[i.Name] = v;
        }
    }

    public Dictionary<string, float[]> Values { get; }

    public void Update(ModelOutputReader outputs, IReadOnlyList<OrtValue> results)
    {
        foreach (var i in _inputs)
        {
            var data = results[outputs.IndexOf(i.StateFrom!)].GetTensorDataAsSpan<float>();
            if (data.Length != i.Length)
                throw new InvalidOperationException($"state output '{i.StateFrom}' has {data.Length} values, input '{i.Name}' takes {i.Length}");
            data.CopyTo(Values[i.Name]);
        }
    }
}
