using System.Text;

namespace FusionActors.OperatorConsole.Protocol;

/// <summary>
/// Reads '\n'-terminated UTF-8 lines from a stream, refusing a line longer than a bound before holding it
/// (StreamReader.ReadLineAsync would buffer a line of any length, which a peer that never sends '\n' abuses).
/// </summary>
public sealed class LineReader(Stream stream, int maxChars)
{
    private readonly Decoder _decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
    private readonly byte[] _bytes = new byte[4096];
    private readonly char[] _chars = new char[4096 + 4];
    private readonly StringBuilder _line = new();
    private readonly Queue<string> _ready = new();
    private bool _ended;

    /// <summary>The next line without its terminator; null at the end of the stream.</summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancel)
    {
        while (_ready.Count == 0)
        {
            if (_ended) return null;
            var n = await stream.ReadAsync(_bytes, cancel);
            if (n == 0)
            {
                _ended = true;
                if (_line.Length > 0) _ready.Enqueue(TakeLine());
                break;
            }
            var count = _decoder.GetChars(_bytes, 0, n, _chars, 0, flush: false);
            for (var i = 0; i < count; i++)
            {
                var c = _chars[i];
                if (c == '\n') _ready.Enqueue(TakeLine());
                else if (_line.Length >= maxChars) throw new InvalidDataException($"a console frame is longer than {maxChars} characters");
                else _line.Append(c);
            }
        }
        return _ready.Count > 0 ? _ready.Dequeue() : null;
    }

    private string TakeLine()
    {
        var end = _line.Length > 0 && _line[^1] == '\r' ? _line.Length - 1 : _line.Length;
        var s = _line.ToString(0, end);
        _line.Clear();
        return s;
    }
}
