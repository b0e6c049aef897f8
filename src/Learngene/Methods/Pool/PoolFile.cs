using System.Text.Json;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Stitching;
using static TorchSharp.torch;

namespace Learngene.Methods.Pool;

/// <summary>What a pool's learngene file says beside its tensors (in <see cref="LearngeneInfo.MethodSettings"/>):
/// the stitched family's architecture, how its stitch layers started, and every configuration as measured
/// after fine-tuning, so that <c>pool list</c> and a budget pick need no data.</summary>
public sealed record PoolRecord
{
    public StitchPoolConfig Pool { get; init; } = new();
    /// <summary>How the stitch layers started: learned (the authors' rule), learned-pinv, ls (least squares, SN-Net's) or scratch.</summary>
    public string StitchInit { get; init; } = "";
    public string TestData { get; init; } = "";
    public int TestImages { get; init; }
    public MeasuredConfig[] Configurations { get; init; } = [];
}

/// <summary>A fine-tuned stitched family as one learngene file: the pool's tensors (<c>models.i.*</c>,
/// <c>stitches.s.*</c>) with <c>method = pool</c> (Learngene Pool) or <c>sn-net</c> (the baseline's anchors
/// and stitches, kept in the same format so that both are listed and exported alike).</summary>
public static class PoolFile
{
    public static readonly string[] Methods = ["pool", "sn-net"];

    public sealed record Loaded(LearngeneInfo Info, PoolRecord Record, string Path);

    public static void Save(string path, StitchPool pool, PoolRecord record, LearngeneInfo info) =>
        LearngeneFile.Save(path, pool.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), info with
        {
            Architecture = pool.Pool.Models[^1],
            MethodSettings = JsonSerializer.Serialize(record, ModelConfig.Json),
        });

    /// <summary>The file's description alone (tensors freed at once).</summary>
    public static Loaded Read(string path)
    {
        using var gene = LearngeneFile.Load(path);
        return new Loaded(gene.Info, RecordOf(gene), path);
    }

    /// <summary>The pool as a module with the file's weights.</summary>
    public static (StitchPool Pool, Loaded File) Load(string path)
    {
        using var gene = LearngeneFile.Load(path);
        var record = RecordOf(gene);
        var pool = new StitchPool(record.Pool);
        try { IO.ModelFile.LoadInto(pool, gene.Tensors, path); }
        catch { pool.Dispose(); throw; }
        return (pool, new Loaded(gene.Info, record, path));
    }

    static PoolRecord RecordOf(LearngeneFile.Loaded gene)
    {
        if (!Methods.Contains(gene.Info.Method))
            throw new LearngeneException($"{gene.Path} is a '{gene.Info.Method}' learngene, not a stitched family (pool or sn-net)");
        try { return JsonSerializer.Deserialize<PoolRecord>(gene.Info.MethodSettings, ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{gene.Path}: its pool description is missing or malformed"); }
    }

    /// <summary>The measured configurations of a file, read from a fine-tuning run's last test metrics.</summary>
    public static MeasuredConfig[] Measure(StitchPool pool, IReadOnlyDictionary<string, double> testMetrics) =>
        pool.Configurations.Select(c =>
        {
            var (parameters, macs) = pool.Cost(c);
            return new MeasuredConfig(c.Id, parameters, macs, testMetrics.TryGetValue($"accuracy/{c.Id}", out double a) ? a : double.NaN);
        }).ToArray();

    /// <summary>The configuration a user asks for: by id, or the most accurate within the budgets.</summary>
    public static MeasuredConfig Pick(Loaded file, string? id, long? maxParameters, long? maxMacs)
    {
        var all = file.Record.Configurations;
        if (id is not null)
        {
            if (maxParameters is not null || maxMacs is not null) throw new LearngeneException("give a configuration id or a budget, not both", setting: "config");
            return all.FirstOrDefault(c => c.Id == id) ?? throw new LearngeneException(
                $"{file.Path} has no configuration '{id}' (it has {all.Length}: {string.Join(", ", all.Take(6).Select(c => c.Id))}{(all.Length > 6 ? ", …" : "")}; see 'learngene pool list')", setting: "config");
        }
        if (maxParameters is null && maxMacs is null) throw new LearngeneException("name a configuration (--config ID) or a budget (--budget-params N, --budget-macs N)", setting: "config");
        return BudgetPick.Best(all, maxParameters, maxMacs);
    }

    /// <summary>Writes one configuration as an ordinary model file (loadable by eval, train --init, inspect).</summary>
    public static void Export(string poolPath, string configId, string outPath)
    {
        var (pool, file) = Load(poolPath);
        using (pool)
        {
            var config = pool.Configurations.First(c => c.Id == configId);
            using var model = pool.Export(config);
            var measured = file.Record.Configurations.FirstOrDefault(c => c.Id == configId);
            IO.ModelFile.Save(outPath, model, file.Info.Normalization, file.Info.ClassNames, new Dictionary<string, string>
            {
                ["data"] = file.Info.SourceData, ["init"] = poolPath, ["pool_config"] = configId,
                ["test_accuracy"] = (measured?.Accuracy ?? double.NaN).ToString("R"), ["images_seen"] = file.Info.ImagesSeen.ToString(),
            });
        }
    }
}
