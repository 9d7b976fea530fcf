using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FusionActors.Inference;

/// <summary>
/// Checks a model's declaration against its graphs' metadata: every graph input is bound, with the declared element
/// type and a shape that fits; the declared outputs exist with the declared sizes. Errors name the model and the field.
/// </summary>
internal static class ModelGraphCheck
{
    /// <summary>The main model's input shape per input (no batch axis; at most one -1 the payload's length fixes).</summary>
    public static int[] Check(ModelSpec spec, InferenceSession main, InferenceSession? frontEnd, int[] payloadShape)
    {
        var transformed = InputTransform.ShapeAfter(spec.Input.Transforms, payloadShape);
        int[] itemShape;
        if (spec.FrontEnd is { } fe)
        {
            var feInput = Input(spec, frontEnd!, fe.Input, "frontEnd.input");
            ExpectType(spec, fe.Input, feInput, TensorElementKind.Float32, "frontEnd.input");
            ExpectShape(spec, fe.Input, feInput.Dimensions, transformed, "input.shape (after input.transforms)");
            ExpectOnlyBound(spec, frontEnd!, [fe.Input], "frontEnd");
            if (!frontEnd!.OutputMetadata.ContainsKey(fe.Output))
                throw new InvalidDataException(
                    $"model '{spec.Name}': frontEnd.output '{fe.Output}' is not an output of {fe.FilePath}; it has: {string.Join(", ", frontEnd.OutputMetadata.Keys)}");
            var mainInput = Input(spec, main, spec.Input.Name, "input.name");
            ExpectType(spec, spec.Input.Name, mainInput, spec.Input.ElementType, "input.elementType");
            itemShape = mainInput.Dimensions.Skip(1).ToArray();
            if (itemShape.Count(d => d < 0) > 1)
                throw new InvalidDataException(
                    $"model '{spec.Name}': input '{spec.Input.Name}' fed by the front-end has shape [{string.Join(",", mainInput.Dimensions)}]; at most one axis beyond the batch may be dynamic");
        }
        else
        {
            var input = Input(spec, main, spec.Input.Name, "input.name");
            ExpectType(spec, spec.Input.Name, input, spec.Input.ElementType, "input.elementType");
            ExpectShape(spec, spec.Input.Name, input.Dimensions, transformed, spec.Input.Transforms.Count == 0 ? "input.shape" : "input.shape (after input.transforms)");
            itemShape = transformed;
        }

        foreach (var extra in spec.ExtraInputs)
        {
            var meta = Input(spec, main, extra.Name, $"inputs['{extra.Name}']");
            ExpectType(spec, extra.Name, meta, extra.ElementType, $"inputs['{extra.Name}'].elementType");
            var dims = meta.Dimensions;
            if (dims.Length != extra.Shape.Count || dims.Zip(extra.Shape).Any(p => p.First > 0 && p.First != p.Second))
                throw new InvalidDataException(
                    $"model '{spec.Name}': inputs['{extra.Name}'].shape [{string.Join(",", extra.Shape)}] does not fit the graph's [{string.Join(",", dims)}]");
            if (extra.StateFrom is { } from && !main.OutputMetadata.ContainsKey(from))
                throw new InvalidDataException(
                    $"model '{spec.Name}': inputs['{extra.Name}'].stateFrom '{from}' is not an output; it has: {string.Join(", ", main.OutputMetadata.Keys)}");
        }
        ExpectOnlyBound(spec, main, [spec.Input.Name, .. spec.ExtraInputs.Select(e => e.Name)], "inputs");

        foreach (var (output, field) in new[] { (spec.Embedding, "outputs.embedding"), (spec.Logits, "outputs.logits") })
        {
            if (output is null) continue;
            if (!main.OutputMetadata.TryGetValue(output.Name, out var meta))
                throw new InvalidDataException(
                    $"model '{spec.Name}': {field}.name '{output.Name}' is not an output; it has: {string.Join(", ", main.OutputMetadata.Keys)}");
            if (meta.ElementDataType != TensorElementType.Float)
                throw new InvalidDataException($"model '{spec.Name}': {field} '{output.Name}' is {meta.ElementDataType}, not float32");
            if (output.Pool is { } pool)
            {
                if (pool.Axis < 1 || pool.Axis >= meta.Dimensions.Length)
                    throw new InvalidDataException(
                        $"model '{spec.Name}': {field}.pool.axis {pool.Axis} is not a non-batch axis of '{output.Name}' [{string.Join(",", meta.Dimensions)}]");
            }
            else
            {
                var last = meta.Dimensions.Length > 0 ? meta.Dimensions[^1] : -1;
                if (last > 0 && last != output.Size)
                    throw new InvalidDataException(
                        $"model '{spec.Name}': output '{output.Name}' has {last} values per input, models.json says {output.Size}");
            }
        }
        return itemShape;
    }

    private static NodeMetadata Input(ModelSpec spec, InferenceSession session, string name, string field)
    {
        if (!session.InputMetadata.TryGetValue(name, out var meta))
            throw new InvalidDataException(
                $"model '{spec.Name}' ({spec.FilePath}): {field} '{name}' is not an input of the graph; it has: {string.Join(", ", session.InputMetadata.Keys)}");
        return meta;
    }

    private static void ExpectOnlyBound(ModelSpec spec, InferenceSession session, IReadOnlyCollection<string> bound, string field)
    {
        var unbound = session.InputMetadata.Keys.Where(k => !bound.Contains(k)).ToArray();
        if (unbound.Length > 0)
            throw new InvalidDataException(
                $"model '{spec.Name}' has {session.InputMetadata.Count} graph inputs; {field}: nothing binds {string.Join(", ", unbound.Select(u => $"'{u}'"))} (declare it under \"inputs\")");
    }

    private static void ExpectType(ModelSpec spec, string name, NodeMetadata meta, TensorElementKind kind, string field)
    {
        var expected = kind switch
        {
            TensorElementKind.Float32 => TensorElementType.Float,
            TensorElementKind.Int64 => TensorElementType.Int64,
            TensorElementKind.Int32 => TensorElementType.Int32,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (meta.ElementDataType != expected)
            throw new InvalidDataException($"model '{spec.Name}': {field}: graph input '{name}' is {meta.ElementDataType}, models.json says {kind}");
    }

    private static void ExpectShape(ModelSpec spec, string name, int[] dims, int[] item, string field)
    {
        var matches = dims.Length == item.Length + 1 && dims.Skip(1).Zip(item).All(p => p.First <= 0 || p.First == p.Second);
        if (!matches)
            throw new InvalidDataException(
                $"model '{spec.Name}': {field}: graph input '{name}' has shape [{string.Join(",", dims)}], models.json makes [-1,{string.Join(",", item)}]");
    }
}
