using Learngene.Data;
using Learngene.Experiments.Planning;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Reporting;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Experiments.Comparison;

/// <summary>Trains every pre-trained artefact of a comparison — each learngene's auxiliary model, the
/// family's ancestry, the same-size models — with one recipe: soft distillation from the one teacher on the
/// same source images, epochs and seed (<see cref="CompareExperiment.PretrainRecipe"/>). Each is a cached cell.</summary>
public sealed class ComparisonPretrainer(ComparePreset preset, CellStore? cells, DataCache? data, string teacherPath, Action<string> log) : IPretrainer
{
    public ComparePreset Preset => preset;
    /// <summary>The family's architecture (average pooling; input shape from the data).</summary>
    public VitConfig Family { get; } = ModelPresets.Registry.Find(preset.Family).Vit with { Pooling = "avg", ImageSize = 0 };

    /// <summary>Every pre-trained cell by name.</summary>
    public Dictionary<string, CellResult> Cells { get; } = [];
    public CellResult? AncestryCell { get; private set; }
    public Dictionary<int, CellResult> SameSizeCells { get; } = [];

    /// <summary>Set when the pretrainer plans (<see cref="Planning"/>): the cells it would train.</summary>
    List<PlannedCell>? plan;
    ModelConfig? teacher;

    /// <summary>A pretrainer that trains nothing: each artefact asked for becomes a planned cell (a dry run's).</summary>
    public static ComparisonPretrainer Planning(ComparePreset preset, List<PlannedCell> plan, ModelConfig teacher) =>
        new(preset, null, null, "", _ => { }) { plan = plan, teacher = teacher };

    RunSpec Spec(VitConfig model, string? method, string? settings) => new()
    {
        Data = preset.Source, Model = model, Method = method, MethodSettings = settings, Teacher = teacherPath,
        Options = CompareExperiment.PretrainRecipe(preset), TrainLimit = preset.AuxiliaryTrainLimit, TestLimit = preset.TestLimit, TestSeed = preset.Seed,
    };

    public Artefact Train(string name, VitConfig model, string? method = null, string? settings = null)
    {
        if (plan is not null)
        {
            if (!Cells.ContainsKey(name)) plan.Add(new PlannedCell(name, Spec(model, method, settings)) { Teacher = teacher });
            Cells[name] = new CellResult { Name = name };
            return new Artefact(name, "", 0, 0);
        }
        if (!Cells.TryGetValue(name, out var cell))
            Cells[name] = cell = cells!.GetOrCompute(name, dir => cells.Train(dir, Spec(model, method, settings), data!, "source", method is null ? name : $"{method}-auxiliary", model.Depth), log);
        // A cell another worker trains (--workers mpi) is not waited for here: its file's place is known, and
        // the descendants that read it wait for it (CompareExperiment.DescendantCell).
        string path = cell.Pending ? Path.Combine(cells!.FolderOf(name), method is null ? TrainRun.ModelName : TrainRun.GeneName) : cells!.Resolve(cell.ModelPath);
        return new Artefact(name, path, cell.TrainImages, cell.MacsPerImage);
    }

    /// <summary>The family's largest model, shared by every baseline that takes weights from it.</summary>
    public Artefact Ancestry()
    {
        var a = Train("ancestry", Family with { Depth = preset.AuxiliaryDepth });
        AncestryCell = Cells[a.Name];
        return a;
    }

    /// <summary>A model of the given depth; at the ancestry's depth it is the ancestry (the same
    /// architecture and training, not trained twice).</summary>
    public Artefact SameSize(int depth)
    {
        var a = Train(depth == preset.AuxiliaryDepth ? "ancestry" : $"pretrain-d{depth:D2}", Family with { Depth = depth });
        SameSizeCells[depth] = Cells[a.Name];
        return a;
    }
}
