using Learngene.Methods;
using Learngene.Models;
using Learngene.Training.Objectives;

namespace Learngene.Methods.Pool;

/// <summary>Learngene Pool's instances (docs/methods/pool.md): small ViTs of several widths, each half as deep
/// as the teacher (the authors: Ti/S/B widths at depth 6 under a 12-block DeiT-B), distilled from it with
/// <see cref="FeatureDistillation"/>. The narrowest instance matches three blocks, the others one.</summary>
public static class PoolInstances
{
    /// <summary>The authors' widths relative to the teacher's (DeiT-Ti/S/B under DeiT-B: 1/4, 1/2, 1).</summary>
    public static readonly double[] AuthorsWidthRatios = [0.25, 0.5, 1.0];

    /// <summary>The instances' architectures: the teacher's patch grid, pooling and head width, the given
    /// widths (default: the authors' ratios of the teacher's width) and depth (default: half the teacher's).</summary>
    public static IReadOnlyList<VitConfig> Architectures(VitConfig teacher, IReadOnlyList<int>? widths = null, int? depth = null)
    {
        var list = widths ?? AuthorsWidthRatios.Select(r => Math.Max(1, (int)Math.Round(teacher.Width * r))).ToArray();
        int d = depth ?? Math.Max(2, teacher.Depth / 2);
        if (list.Count == 0) throw new LearngeneException("a pool needs at least one instance width", setting: "widths");
        if (list.Distinct().Count() != list.Count) throw new LearngeneException($"instance widths must differ (got {string.Join(",", list)})", setting: "widths");
        int headWidth = teacher.Width / teacher.Heads;
        return list.Order().Select(w => (VitConfig)(teacher with { Width = w, Depth = d, Heads = w % headWidth == 0 ? w / headWidth : 1 }).Validate()).ToArray();
    }

    /// <summary>The blocks each instance matches with the teacher (the authors' <c>criterion2.py</c>): the
    /// narrowest its blocks at 1/3, 2/3 and the end of its depth with the teacher's blocks at 1/3, 2/3 and
    /// the end (DeiT-B: 3, 7, 11); every other instance its last block with the teacher's last.</summary>
    public static FeatureDistillation.Settings Matching(int instance, int depth, int teacherDepth)
    {
        if (instance > 0 || depth < 3) return FeatureDistillation.LastBlocks(depth, teacherDepth);
        int[] Thirds(int d) => [d / 3 - 1, 2 * d / 3 - 1, d - 1];
        return new FeatureDistillation.Settings(Thirds(depth), Thirds(teacherDepth));
    }
}
