using System.Text.Json;
using Learngene.Data;
using Learngene.Genes;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Bench;

/// <summary>Everything a TLEG experiment measured; results.json holds exactly this.</summary>
public sealed record TlegResults
{
    public TlegPreset Preset { get; init; } = new();
    public CellResult Teacher { get; init; } = new();
    public CellResult Auxiliary { get; init; } = new();
    public long LearngeneParameters { get; init; }
    public long AuxiliaryMacsPerImage { get; init; }
    /// <summary>Parameters of one model per depth 1..AuxiliaryDepth (what pretrain-finetune stores).</summary>
    public long FamilyParameters { get; init; }
    public List<CellResult> Cells { get; init; } = [];
    public DateTime Finished { get; init; }
}

/// <summary>The TLEG experiment of SPEC.md section 1, end to end: teacher → learngene (auxiliary model by
/// distillation) → descendants at each depth → fine-tuning for E epochs, against scratch (E and k·E
/// epochs) and pretrain-finetune (each depth pre-trained on the source data for k·E epochs, then
/// fine-tuned on the transfer task for E epochs). Every training is a cached cell, so an interrupted
/// run resumes where it stopped and completed cells are not recomputed.</summary>
public sealed class TlegExperiment(TlegPreset preset, string runDir, DataCatalog catalog, Action<string> log, Func<ITrainingObserver?>? observer = null)
{
    public const string ResultsName = "results.json";
    readonly CellStore cells = new(runDir);
    readonly ILearngeneMethod tleg = Methods.Find("tleg");

    public TlegResults Run(string? teacherFile = null)
    {
        Directory.CreateDirectory(runDir);
        GuardPreset();
        var family = ModelPresets.Find(preset.Family).Config with { Pooling = "avg", ImageSize = 0 };

        var teacher = teacherFile is not null
            ? new CellResult { Name = "teacher", Task = "source", Init = "given", ModelPath = Path.GetFullPath(teacherFile) }
            : cells.GetOrCompute("teacher", dir => Train(dir, new RunSpec
            {
                Data = preset.Source, Model = ModelPresets.Find(preset.TeacherModel).Config with { ImageSize = 0 },
                Options = preset.Recipe with { Epochs = preset.TeacherEpochs, Seed = preset.Seed },
                TrainLimit = preset.TeacherTrainLimit, TestLimit = preset.TestLimit,
            }, "source", "teacher", 0), log);

        var aux = cells.GetOrCompute("learngene", dir => Train(dir, new RunSpec
        {
            Data = preset.Source, Model = family with { Depth = preset.AuxiliaryDepth }, Method = "tleg", Teacher = teacher.ModelPath,
            Options = preset.Recipe with { Epochs = preset.AuxiliaryEpochs, Seed = preset.Seed, Distill = "soft", DistillAlpha = 1.0, Temperature = 1.0 },
            TrainLimit = preset.AuxiliaryTrainLimit, TestLimit = preset.TestLimit,
        }, "source", "tleg-auxiliary", preset.AuxiliaryDepth), log);
        var gene = LearngeneFile.Load(aux.ModelPath, "tleg");

        var results = new List<CellResult>();
        int longEpochs = preset.Epochs * preset.ScratchMultiplier;
        // Source task: same label space, so descendants keep the learngene's head.
        foreach (int depth in preset.Depths)
        {
            string init = Expand(gene, depth, "source", sameLabelSpace: true);
            results.Add(Cell($"source-tleg-d{depth:D2}", "source", "tleg", depth, preset.Source, preset.Epochs, init: init));
            results.Add(Cell($"source-scratch-d{depth:D2}", "source", "scratch", depth, preset.Source, preset.Epochs, arch: family with { Depth = depth }));
            results.Add(Cell($"source-scratch-long-d{depth:D2}", "source", "scratch-long", depth, preset.Source, longEpochs, arch: family with { Depth = depth }));
        }
        // Transfer task: a new label space, so a fresh head; pretrain-finetune starts from the long scratch models.
        foreach (int depth in preset.Depths)
        {
            string init = Expand(gene, depth, "transfer", sameLabelSpace: false);
            results.Add(Cell($"transfer-tleg-d{depth:D2}", "transfer", "tleg", depth, preset.Transfer, preset.Epochs, init: init));
            results.Add(Cell($"transfer-scratch-d{depth:D2}", "transfer", "scratch", depth, preset.Transfer, preset.Epochs, arch: family with { Depth = depth }));
            var pretrained = results.Single(c => c.Name == $"source-scratch-long-d{depth:D2}");
            results.Add(Cell($"transfer-pretrain-finetune-d{depth:D2}", "transfer", "pretrain-finetune", depth, preset.Transfer, preset.Epochs, init: pretrained.ModelPath));
        }

        using var auxModel = tleg.CreateAuxiliary(gene.Info.Architecture);
        var all = new TlegResults
        {
            Preset = preset, Teacher = teacher, Auxiliary = aux,
            LearngeneParameters = tleg.StoredParameters(gene),
            AuxiliaryMacsPerImage = auxModel.MacsPerImage(),
            FamilyParameters = Enumerable.Range(1, preset.AuxiliaryDepth).Sum(d =>
            {
                using var m = Classifier.Create(gene.Info.Architecture with { Depth = d });
                return m.ParameterCount();
            }),
            Cells = results, Finished = DateTime.UtcNow,
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, ResultsName), JsonSerializer.Serialize(all, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));
        return all;
    }

    /// <summary>A run folder holds one experiment: refuse to mix presets in it.</summary>
    void GuardPreset()
    {
        string path = Path.Combine(runDir, "preset.json");
        string json = JsonSerializer.Serialize(preset, ModelConfig.Json);
        if (File.Exists(path) && File.ReadAllText(path) != json)
            throw new LearngeneException($"{runDir} holds an experiment with other settings ({path}); use another --out to run these");
        AtomicFile.WriteAllText(path, json);
    }

    string Expand(LearngeneFile.Loaded gene, int depth, string task, bool sameLabelSpace)
    {
        string path = Path.Combine(runDir, "descendants", task, $"depth-{depth:D2}.safetensors");
        if (File.Exists(path)) return path;
        torch.manual_seed(preset.Seed + depth);
        using var model = tleg.Expand(gene, depth, gene.Info.Architecture.Classes, sameLabelSpace);
        ModelFile.Save(path, model, gene.Info.Normalization, gene.Info.ClassNames, new Dictionary<string, string> { ["learngene"] = gene.Path });
        return path;
    }

    CellResult Cell(string name, string task, string initKind, int depth, string data, int epochs, string? init = null, ModelConfig? arch = null) =>
        cells.GetOrCompute(name, dir => Train(dir, new RunSpec
        {
            Data = data, Model = arch ?? new ModelConfig(), Init = init,
            Options = preset.Recipe with { Epochs = epochs, Seed = preset.Seed },
            TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit,
        }, task, initKind, depth), log);

    CellResult Train(string dir, RunSpec spec, string task, string init, int depth)
    {
        bool resumable = File.Exists(Path.Combine(dir, Trainer.CheckpointName));
        if (!resumable && Directory.Exists(dir)) Directory.Delete(dir, recursive: true); // stopped before its first checkpoint
        var result = resumable
            ? TrainRun.Resume(dir, catalog, observer: observer?.Invoke(), log: null)
            : TrainRun.Start(spec, dir, catalog, observer?.Invoke(), log: null);
        return new CellResult
        {
            Task = task, Init = init, Depth = depth, History = result.History, Parameters = result.Parameters,
            MacsPerImage = result.MacsPerImage, ModelPath = Path.GetFullPath(result.ModelPath),
            TrainImages = result.History[^1].ImagesSeen, Seconds = result.History.Sum(h => h.Seconds),
        };
    }
}
