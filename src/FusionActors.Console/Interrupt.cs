namespace FusionActors.Fusionctl;

/// <summary>Ctrl+C: cancels the command that runs now; the interactive prompt takes a fresh token per command.</summary>
public sealed class Interrupt
{
    private readonly object _gate = new();
    private CancellationTokenSource _current = new();

    public Interrupt(CancellationToken outer = default)
    {
        if (outer.CanBeCanceled) outer.Register(Fire);
    }

    public CancellationToken Token
    {
        get { lock (_gate) return _current.Token; }
    }

    public void Fire()
    {
        lock (_gate) _current.Cancel();
    }

    /// <summary>A token for the next command; a Ctrl+C that ended the previous one does not carry over.</summary>
    public CancellationToken Renew()
    {
        lock (_gate)
        {
            if (_current.IsCancellationRequested) _current = new CancellationTokenSource();
            return _current.Token;
        }
    }
}
