using Learngene.Experiments.Planning;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;

namespace Learngene.Experiments.Comparison;

/// <summary>Every training a comparison would run, in its order, without data or files: the teacher (unless
/// given), each contender's pre-trained artefacts (through the same <see cref="ComparisonPretrainer"/>), the
/// reference's long runs, and each task's descendants of every method, depth and seed.</summary>
public static class ComparePlan
{
    /// <summary>With every method (those the transfer task alone measures left out when there is none) and one seed.</summary>
    public static List<PlannedCell> Of(ComparePreset preset) => Of(preset, DefaultMethods(preset), 1);

    public static string[] DefaultMethods(ComparePreset preset) =>
        preset.Transfer == "" ? Contenders.Names.Where(n => Contenders.Find(n).MeasuredOn("source")).ToArray() : Contenders.Names;

    public static List<PlannedCell> Of(ComparePreset preset, IReadOnlyList<string> methods, int seeds, string? teacherFile = null)
    {
        var plan = new List<PlannedCell>();
        var teacherSpec = CompareExperiment.TeacherSpec(preset);
        var teacher = teacherFile is null ? teacherSpec.Model : ModelFile.ReadConfig(teacherFile);
        if (teacherFile is null) plan.Add(new PlannedCell("teacher", teacherSpec));
        var pretrainer = ComparisonPretrainer.Planning(preset, plan, teacher);
        var contenders = methods.Select(m => Contenders.Find(m, preset.InitializerSettings())).ToList();
        foreach (var c in contenders) c.Pretrain(pretrainer);

        var source = DryRun.ShapeOf(new RunSpec { Data = preset.Source, Model = pretrainer.Family });
        var seedList = Enumerable.Range(preset.Seed, seeds).ToArray();
        void Descendant(string task, Contender c, string label, int depth, int seed, int epochs)
        {
            var spec = CompareExperiment.DescendantSpec(preset, task, epochs, seed);
            var shape = Data.StandInData.ShapeOf(spec.Data);
            var model = CompareExperiment.DescendantArchitecture(preset, c, depth, source.ImageSize, source.Channels, shape.Channels, shape.Classes);
            spec = spec with { Model = model };
            plan.Add(new PlannedCell(CompareExperiment.CellName(task, label, depth, seed), spec));
        }
        if (preset.LongEpochs > 0 && methods.Contains(Contenders.Reference))
            foreach (int depth in preset.Depths)
                foreach (int seed in seedList)
                {
                    Descendant("source", Contenders.Find(Contenders.Reference), Contenders.LongRun, depth, seed, preset.LongEpochs);
                    if (preset.FloorEpochs > 0 && preset.FloorEpochs != preset.LongEpochs)
                        Descendant("source", Contenders.Find(Contenders.Reference), Contenders.FloorRun, depth, seed, preset.FloorEpochs);
                }
        foreach (var task in preset.Transfer == "" ? ["source"] : new[] { "source", "transfer" })
            foreach (var c in contenders.Where(c => c.MeasuredOn(task)))
                foreach (int depth in preset.Depths)
                    foreach (int seed in seedList)
                        Descendant(task, c, c.Name, depth, seed, preset.Epochs);
        return plan;
    }
}
