using System.Text.Json;
using Learngene.Baselines.Initializers;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;

namespace Learngene.Runs;

/// <summary>What a <c>learngene train</c> run is: saved as run.json in its folder so the run can be resumed
/// and reported without the original command line.</summary>
public sealed record RunSpec
{
    public string Data { get; init; } = "fashion-mnist";
    /// <summary>Architecture; channels and classes are filled in from the data, and the image size too
    /// when it is 0 (otherwise images are resized to it).</summary>
    public ModelConfig Model { get; init; } = new VitConfig();
    public TrainOptions Options { get; init; } = new();
    public int? TrainLimit { get; init; }
    /// <summary>Only these classes of the data (relabelled 0..k−1 in this order); null: all. Applied after
    /// the limits.</summary>
    public int[]? Classes { get; init; }
    public int? TestLimit { get; init; }
    /// <summary>Seed of the test subset when <see cref="TestLimit"/> cuts it; null: the training seed.
    /// Experiments fix it so that seeds vary training only and every run is scored on the same images.</summary>
    public int? TestSeed { get; init; }
    /// <summary>The seed of the training subset (<see cref="TrainLimit"/>); null: the recipe's seed. Runs that
    /// differ only in their training seed keep one subset with it (and the images held out from it).</summary>
    public int? TrainSeed { get; init; }
    public string? Teacher { get; init; }
    public string Device { get; init; } = "cpu";
    /// <summary>What to start from instead of random weights (<c>train --init</c>): a model file, or the
    /// name of an initializer (scratch, weight-selection, heur-lg, auto-lg, mimetic, pretrain-finetune).</summary>
    public string? Init { get; init; }
    /// <summary>The ancestry model file of initializers that need one.</summary>
    public string? Ancestry { get; init; }
    /// <summary>The initializer's settings by name (Heur-LG's <c>inherit</c>, weight selection's <c>ws-layers</c>…),
    /// which it reads and checks itself; null: its defaults.</summary>
    public Dictionary<string, string>? InitSettings { get; init; }
    /// <summary>False when the data's labels are not the ancestry's (a transfer task): fresh head.</summary>
    public bool SameLabelSpace { get; init; } = true;
    /// <summary>Set when the run learns a learngene: the method whose auxiliary model is trained.</summary>
    public string? Method { get; init; }
    /// <summary>What training minimizes (a registered objective); null: the method's, else classification.</summary>
    public string? Objective { get; init; }
    /// <summary>The objective's own settings as JSON; null for its defaults.</summary>
    public string? ObjectiveSettings { get; init; }
    /// <summary>The method's own settings as JSON (SWS: {"stages":[3,3,4,3,3]}); null for its defaults.</summary>
    public string? MethodSettings { get; init; }

    public const string FileName = "run.json";

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));

    public static RunSpec Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) throw new LearngeneException($"{runDir} is not a run folder (no {FileName})");
        try { return JsonSerializer.Deserialize<RunSpec>(File.ReadAllText(path), ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path} does not parse"); }
    }
}

