using Akka.Actor;
using Akka.Event;
using FusionActors.Inference;
using FusionActors.OperatorConsole.Protocol;
using static FusionActors.Runtime.OperatorConsole.Palettes.SessionQueries;

namespace FusionActors.Runtime.OperatorConsole.Palettes;

/// <summary>
/// <c>models list</c>: the node's catalog (name, version, modality, file, whether its encoder is open, how many
/// streams run it) and the retired versions still open for the streams that run them (retiring);
/// <c>models reload</c>: re-reads the node's models.json (<see cref="ModelRegistry.Reload"/>): new sessions use
/// the new versions, running streams move to them at their switch point, a fusion-window boundary, unless pinned (docs/models.md). A file that
/// does not parse changes nothing; a model that does not open keeps its old version serving; both are in the answer,
/// the node's log and <c>fusion.models.reloads</c>.
/// </summary>
/// <param name="registry">The node's registry; null when the node has no models.json (both commands say so).</param>
public sealed class ModelsPalette(ModelRegistry? registry) : CommandPaletteHandler
{
    public override CommandPalette Palette { get; } = new("models", "the node's models (models.json): versions and reload",
    [
        new("list", "every model of the catalog (version, modality, file, encoder open, streams running it) and the retired versions still in use", []),
        new("reload", "re-read models.json: new sessions and unpinned running streams move to changed versions; a model that fails keeps its old version", []),
    ]);

    public override Props HandlerProps(Command command, IActorRef replyTo) => Props.Create(() => new Handler(command, replyTo, registry));

    private sealed class Handler(Command command, IActorRef replyTo, ModelRegistry? registry) : CommandHandlerActor(command, replyTo)
    {
        private readonly ILoggingAdapter _log = Context.GetLogger();

        protected override async Task Execute()
        {
            if (registry is null) throw new CommandFailedException("this node has no models.json (fusion.models-path, or models/models.json from its directory up)");
            if (Command.Name == "reload")
            {
                await Reload(registry);
                return;
            }
            var catalog = registry.Catalog;
            var encoders = registry.Encoders;
            var models = catalog.Models.Select(m =>
            {
                var current = encoders.FirstOrDefault(e => e.Current && e.Name == m.Name);
                return new { m.Name, m.Version, m.Modality, File = Path.GetFileName(m.FilePath), Open = current is not null, Streams = current?.Uses ?? 0 };
            }).ToArray();
            var retiring = encoders.Where(e => !e.Current).Select(e => new { e.Name, e.Version, Streams = e.Uses, e.HeldUncounted }).ToArray();
            Done(new CommandResponse($"{models.Length} models in {catalog.Path}; {retiring.Length} retired versions still open ({retiring.Sum(r => r.Streams)} streams run them), {registry.FreedEncoders} closed")
            {
                Table = Table("models", ["name", "version", "modality", "file", "encoder", "streams"],
                    models.Select(m => new[] { m.Name, m.Version, m.Modality, m.File, m.Open ? "open" : "-", m.Streams.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                        .Concat(retiring.Select(r => new[] { r.Name, r.Version, "", "", r.HeldUncounted ? "retired (held until the node stops)" : "retiring",
                            r.Streams.ToString(System.Globalization.CultureInfo.InvariantCulture) }))),
                Data = ToJson(new { catalog = catalog.Path, models, retiring, retiredEncoders = retiring.Length, freedEncoders = registry.FreedEncoders }),
            });
        }

        private async Task Reload(ModelRegistry models)
        {
            IReadOnlyList<ModelReloadEntry> report;
            // Opening a model takes a while: off the actor's thread.
            var freedBefore = models.FreedEncoders;
            try { report = await Task.Run(models.Reload); }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException)
            {
                _log.Warning("models reload refused, nothing changed: {0}", e.Message);
                throw new CommandFailedException($"reload refused, nothing changed: {e.Message}");
            }
            foreach (var r in report) FusionActors.Runtime.Metrics.FusionMetrics.ModelReloaded(r.Name, r.Outcome.ToString().ToLowerInvariant());
            var failed = report.Where(r => r.Outcome == ModelReloadOutcome.Failed).ToArray();
            foreach (var f in failed)
                _log.Warning("models reload: {0} version {1} did not load, {2} keeps serving: {3}", f.Name, f.NewVersion, f.OldVersion ?? "nothing", f.Error);
            var changed = report.Where(r => r.Outcome is ModelReloadOutcome.Loaded or ModelReloadOutcome.Added or ModelReloadOutcome.Removed).ToArray();
            var retiring = models.Encoders.Where(e => !e.Current).ToArray();
            var summary = $"reloaded {models.Catalog.Path}: {changed.Length} changed, {failed.Length} failed, " +
                          $"{report.Count(r => r.Outcome == ModelReloadOutcome.Unchanged)} unchanged; " +
                          $"{models.FreedEncoders - freedBefore} replaced versions closed at once (no stream ran them), " +
                          $"{retiring.Length} retiring (running streams move on at their next batch)";
            _log.Info("models {0} ({1})", summary, string.Join(", ", report.Select(r => $"{r.Name} {r.OldVersion ?? "-"} -> {r.NewVersion ?? "-"} {r.Outcome}")));
            var response = new CommandResponse(summary)
            {
                Table = Table("reload", ["name", "was", "now", "outcome", "error"],
                    report.Select(r => new[] { r.Name, r.OldVersion ?? "-", r.NewVersion ?? "-", r.Outcome.ToString().ToLowerInvariant(), r.Error ?? "" })),
                Data = ToJson(report.Select(r => new { r.Name, r.OldVersion, r.NewVersion, Outcome = r.Outcome.ToString().ToLowerInvariant(), r.Error })),
            };
            // Some models failing is a failed command (scripts see it), with the whole report.
            Done(failed.Length == 0 ? response : response with
            {
                Text = $"{summary}; did not load, old version kept serving: " + string.Join("; ", failed.Select(f => $"{f.Name} {f.NewVersion}: {f.Error}")),
                Error = ResponseError.Failed,
            });
        }
    }
}
