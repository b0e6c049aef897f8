namespace Learngene.Methods;

/// <summary>A model trained before any descendant (a learngene's auxiliary model, an ancestry, a
/// pre-trained model of one size): where its file is, and what its training cost.</summary>
public sealed record Artefact(string Name, string Path, long TrainImages, long MacsPerImage);

/// <summary>Trains the pre-trained models of an experiment, each with the same distillation recipe, data and
/// budget: a method asks for what it needs by name and architecture, never for a recipe of its own.</summary>
public interface IPretrainer
{
    /// <param name="method">The learngene method whose auxiliary model this is (its file is then the
    /// learngene), or null for an ordinary model.</param>
    Artefact Train(string name, Models.VitConfig model, string? method = null, string? settings = null);
}

/// <summary>What a method stores to initialize a family of descendants and what its pre-training costs.</summary>
public sealed record MethodCosts(long StoredParameters, long PretrainImages, double PretrainFlops)
{
    public static readonly MethodCosts None = new(0, 0, 0);
}

/// <summary>What costs are computed from: the family (its architecture on the source task and its largest
/// depth), the teacher every pre-trained model distils from, and this method's pre-trained artefacts.</summary>
public sealed class CostContext
{
    public required Models.VitConfig Member { get; init; }
    public required int MaxDepth { get; init; }
    public required long TeacherMacs { get; init; }
    public required IReadOnlyList<Artefact> Artefacts { get; init; }

    public IEnumerable<int> FamilyDepths => Enumerable.Range(1, MaxDepth);

    public long Parameters(int depth) { using var m = new Models.VisionTransformer(Member with { Depth = depth }); return m.ParameterCount(); }

    public long Macs(int depth) { using var m = new Models.VisionTransformer(Member with { Depth = depth }); return m.MacsPerImage(); }

    /// <summary>FLOPs of distilling a model: 2 per multiply-add, its forward and backward (3× its forward)
    /// and the teacher's forward on every image.</summary>
    public double DistillationFlops(long images, long macs) => 2.0 * images * (3.0 * macs + TeacherMacs);
}
