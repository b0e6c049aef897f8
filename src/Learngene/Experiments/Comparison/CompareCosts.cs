using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Experiments.Comparison;

/// <summary>The costs every report states (docs/methods/costs.md), for the family of depths 1..AuxiliaryDepth,
/// each asked of the method itself: the parameters it stores to initialize the family, and the images and
/// FLOPs of its pre-training. <paramref name="member"/> is the family's architecture on the source task.</summary>
public sealed class CompareCosts(ComparePreset preset, VitConfig member, CellStore cells, CellResult teacher)
{
    long? teacherMacs;

    public MethodCosts Of(Contender contender, IReadOnlyList<Artefact> artefacts)
    {
        teacherMacs ??= TeacherMacs(); // a given teacher's file is read once, not once per method
        return contender.Costs(new CostContext
        {
            Member = member, MaxDepth = preset.AuxiliaryDepth, TeacherMacs = teacherMacs.Value, Artefacts = artefacts,
        });
    }

    /// <summary>The teacher's forward MACs per image (read from its file when it was given, not trained here).</summary>
    long TeacherMacs()
    {
        if (teacher.MacsPerImage > 0) return teacher.MacsPerImage;
        var loaded = ModelFile.Load(cells.Resolve(teacher.ModelPath));
        try { return loaded.Model.MacsPerImage(); }
        finally { loaded.Model.Dispose(); }
    }
}
