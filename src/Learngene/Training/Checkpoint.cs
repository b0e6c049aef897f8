using System.Text.Json;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>Everything needed to continue a run exactly: weights and buffers ("model/…"), the objective's
/// own parameters and buffers ("objective/…", when it has any), optimizer moments ("optim/…"), and in the metadata the architecture, the recipe, the epochs done, the optimizer
/// step and the metrics so far. One file, written atomically at the end of every epoch.</summary>
public sealed record Checkpoint(ModelConfig Config, TrainOptions Options, int EpochsDone, long OptimizerStep, List<EpochMetrics> History)
{
    public const string Format = "learngene-checkpoint";

    public const string ObjectivePrefix = "objective/";

    static readonly JsonSerializerOptions Json = ModelConfig.Json;

    public static void Save(string path, Checkpoint state, nn.Module model, IObjective objective, AdamW optimizer)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.state_dict()) tensors["model/" + k] = v;
        if (objective.Own is { } own)
            foreach (var (k, v) in own.state_dict()) tensors[ObjectivePrefix + k] = v;
        foreach (var (k, v) in optimizer.State()) tensors["optim/" + k] = v;
        SafeTensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["config"] = state.Config.ToJson(),
            ["options"] = JsonSerializer.Serialize(state.Options, Json),
            ["epochs_done"] = state.EpochsDone.ToString(),
            ["optimizer_step"] = state.OptimizerStep.ToString(),
            ["history"] = JsonSerializer.Serialize(state.History, Json),
        });
    }

    /// <summary>Reads only the metadata (to check the architecture before building anything).</summary>
    public static Checkpoint ReadState(string path)
    {
        var meta = SafeTensors.ReadMetadata(path);
        if (meta.GetValueOrDefault("format") != Format) throw new LearngeneException($"{path} is not a Learngene training checkpoint");
        try
        {
            return new Checkpoint(
                ModelConfig.FromJson(meta["config"], path),
                JsonSerializer.Deserialize<TrainOptions>(meta["options"], Json)!,
                int.Parse(meta["epochs_done"]), long.Parse(meta["optimizer_step"]),
                JsonSerializer.Deserialize<List<EpochMetrics>>(meta["history"], Json)!);
        }
        catch (Exception e) when (e is KeyNotFoundException or JsonException or FormatException)
        {
            throw new LearngeneException($"{path}: the checkpoint metadata is incomplete or malformed");
        }
    }

    /// <summary>Loads weights and optimizer state into an already-built model and optimizer.</summary>
    public static void Restore(string path, nn.Module model, IObjective objective, AdamW optimizer, long optimizerStep)
    {
        var (tensors, _) = SafeTensors.Load(path);
        ModelFile.LoadInto(model, Strip(tensors, "model/"), path);
        if (objective.Own is { } own) ModelFile.LoadInto(own, Strip(tensors, ObjectivePrefix), path);
        optimizer.LoadState(Strip(tensors, "optim/"), optimizerStep);
        foreach (var t in tensors.Values) t.Dispose();
    }

    static Dictionary<string, Tensor> Strip(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
