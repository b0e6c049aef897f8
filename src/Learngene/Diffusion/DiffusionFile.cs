using Learngene.IO;
using Learngene.Models;
using Learngene.Training.Objectives;

namespace Learngene.Diffusion;

/// <summary>A trained diffusion model ready to sample: the network (the run's weight average), the schedule
/// and the prediction target it was trained with, and the class names.</summary>
public sealed record DiffusionModel(DiffusionTransformer Network, NoiseSchedule Schedule, Prediction Prediction, string[] ClassNames, Dictionary<string, string> Metadata) : IDisposable
{
    /// <summary>Class indices from names or numbers ("3", "sneaker"); null or empty: every class.</summary>
    public long[] ClassIndices(IReadOnlyList<string>? requested)
    {
        if (requested is null || requested.Count == 0) return Enumerable.Range(0, ClassNames.Length).Select(k => (long)k).ToArray();
        return requested.Select(r =>
        {
            int byName = Array.FindIndex(ClassNames, n => string.Equals(n, r, StringComparison.OrdinalIgnoreCase));
            if (byName >= 0) return (long)byName;
            if (int.TryParse(r, out int k) && k >= 0 && k < ClassNames.Length) return k;
            throw new LearngeneException($"'{r}' is not one of the model's classes ({string.Join(", ", ClassNames.Select((n, i) => $"{i}={n}"))})", setting: "classes");
        }).ToArray();
    }

    /// <summary>The data set's indices of the model's classes (matched by name), or null when the model draws
    /// exactly the data's classes in order; a clear error when one is missing.</summary>
    public int[]? ClassesIn(Data.ImageDataset data)
    {
        var names = data.ClassNames.ToList();
        var classes = ClassNames.Select(n => names.IndexOf(n)).ToArray();
        if (classes.Contains(-1)) throw new LearngeneException($"the model's classes [{string.Join(", ", ClassNames)}] are not all classes of {data.Name} [{string.Join(", ", names)}]", setting: "data");
        return classes.SequenceEqual(Enumerable.Range(0, data.Classes)) ? null : classes;
    }

    public (TorchSharp.torch.Tensor Images, TorchSharp.torch.Tensor Labels) Draw(IReadOnlyList<long> classes, int perClass, SamplingRecipe recipe, int seed) =>
        ClassSamples.Draw(Network, Schedule, Prediction, classes, perClass, recipe, seed);

    public void Dispose() => Network.Dispose();
}

/// <summary>The metadata a diffusion model file carries beside the model file's own (prediction target and
/// diffusion step count), and loading one.</summary>
public static class DiffusionFile
{
    public const string PredictionKey = "prediction";
    public const string StepsKey = "diffusion_steps";

    public static DiffusionModel Load(string path)
    {
        if (!File.Exists(path)) throw new LearngeneException($"{path}: no such file");
        var loaded = ModelFile.LoadDiffusion(path);
        try
        {
            var prediction = DiffusionObjective.ParsePrediction(loaded.Metadata.GetValueOrDefault(PredictionKey, "velocity"));
            if (!int.TryParse(loaded.Metadata.GetValueOrDefault(StepsKey, "1000"), out int steps) || steps < 1)
                throw new LearngeneException($"{path}: its {StepsKey} metadata is not a positive number");
            return new DiffusionModel(loaded.Model, new NoiseSchedule(steps), prediction, loaded.ClassNames, loaded.Metadata);
        }
        catch { loaded.Model.Dispose(); throw; }
    }
}
