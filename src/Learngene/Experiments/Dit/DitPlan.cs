using Learngene.Data;
using Learngene.Experiments.Planning;

namespace Learngene.Experiments.Dit;

/// <summary>The trainings of <c>bench dit</c> for a preset: per data set, its judge classifier and its DiT, at
/// the one image size both take (<see cref="DitExperiment.Sized"/>).</summary>
public static class DitPlan
{
    public static List<PlannedCell> Of(DitPreset preset)
    {
        var plan = new List<PlannedCell>();
        foreach (var name in preset.Data)
        {
            var sized = DitExperiment.Sized(preset, StandInData.ShapeOf(name).ImageSize);
            plan.Add(new PlannedCell(DitExperiment.JudgeName(name, null),
                DitExperiment.JudgeSpec(sized.Judge, sized.JudgeRecipe with { Seed = sized.Recipe.Seed }, sized.JudgeTrainLimit, name, null)));
            plan.Add(new PlannedCell($"dit-{name}", DitExperiment.Spec(sized, name, judgePath: null)));
        }
        return plan;
    }
}
