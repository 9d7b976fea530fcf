using System.CommandLine;
using FusionActors.Eval;
using FusionActors.Inference;
using FusionActors.Inference.Drift;

namespace FusionActors.Host.Commands;

/// <summary><c>fit-drift</c>: fits the encoders' drift parameters on train/val and writes them into models.json.</summary>
public static class FitDriftCommand
{
    public static Command Create()
    {
        var data = OptionValues.Text("--data", "DIR", "the AV-Digits data set with train and val splits (default data/avdigits)");
        var models = OptionValues.Text("--models", "PATH", "the models.json to update (default: the repository's models/models.json)");
        var seed = OptionValues.Int("--seed", "seed of the camera sensor noise (default 7)");
        var dryRun = OptionValues.Flag("--dry-run", "fit and print, do not write models.json");
        var command = new Command("fit-drift", "fit the drift scores (energy, Mahalanobis) of the encoders on the train and val splits")
        {
            data, models, seed, dryRun,
        };
        command.SetAction((parsed, _) =>
        {
            var path = parsed.GetValue(models) is { } p ? Path.GetFullPath(p) : ModelCatalog.FindDefaultPath();
            var dir = parsed.GetValue(data) ?? "data/avdigits";
            using var registry = new ModelRegistry(ModelCatalog.Load(path));
            var results = DriftFit.Run(dir, registry, parsed.Get(seed, 7, 0, int.MaxValue), Console.WriteLine);
            if (!parsed.GetValue(dryRun))
            {
                foreach (var r in results) DriftJson.Write(path, r.Model, r.Json);
                ModelCatalog.Load(path); // what was written must load
                Console.WriteLine($"wrote the drift parameters into {path}");
            }
            return Task.FromResult(0);
        });
        return command;
    }
}
