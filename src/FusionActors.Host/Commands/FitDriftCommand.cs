using System.CommandLine;
using FusionActors.Eval;
using FusionActors.Inference;
using FusionActors.Inference.Drift;

namespace FusionActors.Host.Commands;

/// <summary><c>fit-drift</c>: fits the encoders' drift parameters on train/val and writes them into models.json.</summary>
public static class FitDriftCommand
{
    private static ModelCatalog WithDrift(ModelCatalog catalog, IReadOnlyList<DriftFit.Result> results) =>
        new(catalog.Path, [.. catalog.Models.Select(m => results.FirstOrDefault(r => r.Model == m.Name) is { } r ? m with { Drift = r.Fit.Model() } : m)]);

    public static Command Create()
    {
        var data = OptionValues.Text("--data", "DIR", "the AV-Digits data set with train and val splits (default data/avdigits)");
        var models = OptionValues.Text("--models", "PATH", "the models.json to update (default: the repository's models/models.json)");
        var seed = OptionValues.Int("--seed", "seed of the camera sensor noise (default 7)");
        var dryRun = OptionValues.Flag("--dry-run", "fit and print, do not write models.json");
        var discount = OptionValues.Flag("--discount", "then choose the adaptive policy's drift discount on the val split under in-distribution faults, and print the grid");
        var command = new Command("fit-drift", "fit the drift scores (energy, Mahalanobis) of the encoders on the train and val splits")
        {
            data, models, seed, dryRun, discount,
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
            if (parsed.GetValue(discount))
            {
                using var fitted = new ModelRegistry(parsed.GetValue(dryRun) ? WithDrift(registry.Catalog, results) : ModelCatalog.Load(path));
                var val = FusionActors.Inference.Data.AvDigitsDataset.Load(dir, "val").Items;
                var tuned = DriftDiscountFit.Run(val, fitted);
                Console.WriteLine($"drift discount on {tuned.Items} val items x {DriftDiscountFit.Faults.Length} in-distribution faults (mean NLL, accuracy; per fault):");
                foreach (var g in tuned.Grid)
                    Console.WriteLine($"  onset {g.Onset,4} scale {g.Scale,5}: NLL {g.Nll:F5} acc {g.Accuracy:P2}  " +
                                      string.Join(" ", g.AccuracyByFault.Select(kv => $"{kv.Key}={kv.Value:P1}")));
                Console.WriteLine("mean drift per fault (audio / image): " + string.Join(", ", tuned.MeanDrift.Select(kv => $"{kv.Key} {kv.Value.Audio:F2} / {kv.Value.Image:F2}")));
                Console.WriteLine($"best: onset {tuned.Best.Onset}, scale {tuned.Best.Scale} (DriftDiscount.Adaptive is onset {FusionActors.Core.Fusion.Policies.DriftDiscount.Adaptive.Onset}, scale {FusionActors.Core.Fusion.Policies.DriftDiscount.Adaptive.Scale})");
            }
            return Task.FromResult(0);
        });
        return command;
    }
}
