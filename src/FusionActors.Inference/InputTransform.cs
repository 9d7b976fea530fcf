namespace FusionActors.Inference;

/// <summary>
/// One step from a stream's input to a model's input, applied to one input (its shape has no batch axis).
/// Declared in models.json as <c>{"op": ...}</c>; see docs/models.md.
/// </summary>
public abstract record InputTransform
{
    /// <summary>The shape after this step for an input of <paramref name="shape"/>; <see cref="InvalidDataException"/> when it does not apply.</summary>
    public abstract int[] OutputShape(int[] shape);

    /// <summary>Applies the step to <paramref name="input"/> of <paramref name="shape"/> (row-major).</summary>
    public abstract float[] Apply(ReadOnlySpan<float> input, int[] shape);

    /// <summary>The shape after all of <paramref name="transforms"/>.</summary>
    public static int[] ShapeAfter(IReadOnlyList<InputTransform> transforms, int[] shape)
    {
        foreach (var t in transforms) shape = t.OutputShape(shape);
        return shape;
    }

    /// <summary>Applies all of <paramref name="transforms"/> in order.</summary>
    public static float[] ApplyAll(IReadOnlyList<InputTransform> transforms, ReadOnlySpan<float> input, int[] shape)
    {
        var values = input.ToArray();
        foreach (var t in transforms)
        {
            values = t.Apply(values, shape);
            shape = t.OutputShape(shape);
        }
        return values;
    }

    protected static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);
}

/// <summary><c>{"op":"affine","scale":s,"offset":o}</c>: x·s + o (e.g. scale 32767 for int16-range PCM, or -1/1 to invert).</summary>
public sealed record AffineTransform(float Scale, float Offset) : InputTransform
{
    public override int[] OutputShape(int[] shape) => shape;

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        var r = new float[input.Length];
        for (var i = 0; i < r.Length; i++) r[i] = input[i] * Scale + Offset;
        return r;
    }
}

/// <summary><c>{"op":"resize","height":h,"width":w}</c>: bilinear resize of the last two axes (half-pixel centres, edges clamped).</summary>
public sealed record ResizeTransform(int Height, int Width) : InputTransform
{
    public override int[] OutputShape(int[] shape)
    {
        if (shape.Length < 2) throw new InvalidDataException($"resize needs an input of at least 2 axes, got [{string.Join(",", shape)}]");
        var r = (int[])shape.Clone();
        r[^2] = Height;
        r[^1] = Width;
        return r;
    }

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        int h = shape[^2], w = shape[^1], planes = Count(shape) / (h * w);
        var r = new float[planes * Height * Width];
        for (var p = 0; p < planes; p++)
        {
            var src = input.Slice(p * h * w, h * w);
            for (var y = 0; y < Height; y++)
            {
                var sy = (y + 0.5) * h / Height - 0.5;
                var y0 = (int)Math.Floor(sy);
                var fy = sy - y0;
                int ya = Math.Clamp(y0, 0, h - 1), yb = Math.Clamp(y0 + 1, 0, h - 1);
                for (var x = 0; x < Width; x++)
                {
                    var sx = (x + 0.5) * w / Width - 0.5;
                    var x0 = (int)Math.Floor(sx);
                    var fx = sx - x0;
                    int xa = Math.Clamp(x0, 0, w - 1), xb = Math.Clamp(x0 + 1, 0, w - 1);
                    var v = (1 - fy) * ((1 - fx) * src[ya * w + xa] + fx * src[ya * w + xb])
                            + fy * ((1 - fx) * src[yb * w + xa] + fx * src[yb * w + xb]);
                    r[(p * Height + y) * Width + x] = (float)v;
                }
            }
        }
        return r;
    }
}

/// <summary>
/// <c>{"op":"pad","height":h,"width":w,"top":t,"left":l,"value":v}</c>: pads the last two axes to h × w with v, the input
/// placed t rows down and l columns in (default 0, 0: padding at the bottom and right only).
/// </summary>
public sealed record PadTransform(int Height, int Width, float Value, int Top = 0, int Left = 0) : InputTransform
{
    public override int[] OutputShape(int[] shape)
    {
        if (shape.Length < 2 || Top < 0 || Left < 0 || shape[^2] + Top > Height || shape[^1] + Left > Width)
            throw new InvalidDataException(
                $"pad to {Height}x{Width} at ({Top},{Left}) needs an input of at least 2 axes that fits, got [{string.Join(",", shape)}]");
        var r = (int[])shape.Clone();
        r[^2] = Height;
        r[^1] = Width;
        return r;
    }

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        int h = shape[^2], w = shape[^1], planes = Count(shape) / (h * w);
        var r = new float[planes * Height * Width];
        Array.Fill(r, Value);
        for (var p = 0; p < planes; p++)
            for (var y = 0; y < h; y++)
                input.Slice((p * h + y) * w, w).CopyTo(r.AsSpan((p * Height + y + Top) * Width + Left, w));
        return r;
    }
}

/// <summary><c>{"op":"repeatChannels","channels":c}</c>: repeats a one-channel input (first axis 1) c times (grey to RGB).</summary>
public sealed record RepeatChannelsTransform(int Channels) : InputTransform
{
    public override int[] OutputShape(int[] shape)
    {
        if (shape.Length < 1 || shape[0] != 1) throw new InvalidDataException($"repeatChannels needs a first axis of 1, got [{string.Join(",", shape)}]");
        var r = (int[])shape.Clone();
        r[0] = Channels;
        return r;
    }

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        var r = new float[input.Length * Channels];
        for (var c = 0; c < Channels; c++) input.CopyTo(r.AsSpan(c * input.Length));
        return r;
    }
}

/// <summary><c>{"op":"transpose","perm":[...]}</c>: permutes the axes (a layout change such as HWC to CHW: perm [2,0,1]).</summary>
public sealed record TransposeTransform(IReadOnlyList<int> Perm) : InputTransform
{
    public override int[] OutputShape(int[] shape)
    {
        if (Perm.Count != shape.Length || Perm.Order().Select((p, i) => p == i).Any(ok => !ok))
            throw new InvalidDataException($"transpose perm [{string.Join(",", Perm)}] is not a permutation of the {shape.Length} axes of [{string.Join(",", shape)}]");
        return Perm.Select(p => shape[p]).ToArray();
    }

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        var rank = shape.Length;
        var outShape = OutputShape(shape);
        var inStrides = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
        var r = new float[input.Length];
        var index = new int[rank];
        for (var o = 0; o < r.Length; o++)
        {
            var src = 0;
            for (var a = 0; a < rank; a++) src += index[a] * inStrides[Perm[a]];
            r[o] = input[src];
            for (var a = rank - 1; a >= 0; a--)
            {
                if (++index[a] < outShape[a]) break;
                index[a] = 0;
            }
        }
        return r;
    }
}

/// <summary>
/// <c>{"op":"crop","axis":a,"start":s,"length":n}</c>: keeps n entries of axis a from s (negative s counts from the end),
/// e.g. the last 76 frames of a spectrogram.
/// </summary>
public sealed record CropTransform(int Axis, int Start, int Length) : InputTransform
{
    public override int[] OutputShape(int[] shape)
    {
        if (Axis < 0 || Axis >= shape.Length) throw new InvalidDataException($"crop axis {Axis} outside the {shape.Length} axes of [{string.Join(",", shape)}]");
        var start = Start < 0 ? shape[Axis] + Start : Start;
        if (start < 0 || Length <= 0 || start + Length > shape[Axis])
            throw new InvalidDataException($"crop of {Length} from {Start} does not fit axis {Axis} of [{string.Join(",", shape)}]");
        var r = (int[])shape.Clone();
        r[Axis] = Length;
        return r;
    }

    public override float[] Apply(ReadOnlySpan<float> input, int[] shape)
    {
        OutputShape(shape);
        var start = Start < 0 ? shape[Axis] + Start : Start;
        var inner = 1;
        for (var a = Axis + 1; a < shape.Length; a++) inner *= shape[a];
        var outer = 1;
        for (var a = 0; a < Axis; a++) outer *= shape[a];
        var r = new float[outer * Length * inner];
        for (var o = 0; o < outer; o++)
            input.Slice((o * shape[Axis] + start) * inner, Length * inner).CopyTo(r.AsSpan(o * Length * inner));
        return r;
    }
}
