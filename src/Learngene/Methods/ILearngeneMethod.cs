namespace Learngene.Methods;

/// <summary>The contract every learngene method implements (TLEG, SWS, Learngene Pool, KIND), and all that
/// <c>expand</c>, <c>inspect</c> and a library user need of one: what its files hold, the settings expansion
/// takes, and how a learngene file becomes descendants. A method is one folder implementing this and one
/// line in <see cref="LearngeneMethods.Registry"/> (or a <c>Registry.Add</c> call); TLEG and SWS implement
/// it through <see cref="IAuxiliaryMethod"/>, which adds what the comparison experiment needs.</summary>
public interface ILearngeneMethod : INamed
{
    /// <summary>The method names its files carry in their metadata (a pool file may hold SN-Net's family).</summary>
    IReadOnlyList<string> FileMethods => [Name];

    /// <summary>What it stores, in words, for reports and <c>inspect</c>.</summary>
    string Stores { get; }

    /// <summary>The settings <c>expand</c> takes for this method's files; each becomes an option.</summary>
    IReadOnlyList<Setting> ExpandSettings { get; }

    /// <summary>Descendants of the learngene in <paramref name="genePath"/>, written as model files into the
    /// request's folder.</summary>
    Expansion Expand(string genePath, ExpandRequest request);

    /// <summary>What a learngene file of this method holds and what it expands into, in lines for <c>inspect</c>.</summary>
    IReadOnlyList<string> Describe(string genePath);

    /// <summary>The settings <c>learn NAME</c> takes for this method; each becomes an option.</summary>
    IReadOnlyList<Setting> LearnSettings { get; }

    /// <summary>Learns a learngene into the request's folder — trains what the method trains — and says where
    /// its file is.</summary>
    Learned Learn(LearnRequest request);

    /// <summary>The run folder's name under runs/ when learning again resumes it (the pool's cached cells), or
    /// null: each learning gets a new timestamped folder.</summary>
    string? ResumableFolder(GivenSettings settings) => null;
}

/// <summary>What <c>learn</c> asks of a method: the run folder, the settings given (by name), the data cache,
/// and where progress goes.</summary>
public sealed record LearnRequest(string OutDir, GivenSettings Settings, Data.DataCache Data, Action<string> Log, Training.ITrainingObserver? Observer = null);

/// <summary>The learngene file a learning wrote, and lines saying how it went.</summary>
public sealed record Learned(string GenePath, IReadOnlyList<string> Lines);

/// <summary>What <c>expand</c> asks of a method: the folder to write into, the settings given (by name; a flag
/// as "true"), and the seed of any fresh parts.</summary>
public sealed record ExpandRequest(string OutDir, IReadOnlyDictionary<string, string> Settings, int Seed = 0)
{
    GivenSettings Given => new(Settings);

    public string? Text(string name) => Given.Text(name);

    public bool Flag(string name) => Given.Flag(name);

    public int? Int(string name) => Given.Int(name);

    public long? Long(string name) => Given.Long(name);
}

/// <summary>One model file an expansion wrote, with its size, cost and a line saying what it is.</summary>
public sealed record Descendant(string Path, long Parameters, long MacsPerImage, string Label);

/// <summary>The files an expansion wrote and a closing line (how long it took, what was stored).</summary>
public sealed record Expansion(IReadOnlyList<Descendant> Files, string Summary);

public static class LearngeneMethods
{
    public static readonly Registry<ILearngeneMethod> Registry = new("learngene method",
        [new Tleg.TlegMethod(), new Sws.SwsMethod(), new Pool.PoolMethod(), new Kind.KindMethod()]);

    /// <summary>The methods whose learngene lives in one auxiliary ViT (the comparison experiment's contenders).</summary>
    public static IEnumerable<IAuxiliaryMethod> Auxiliary => Registry.All.OfType<IAuxiliaryMethod>();

    /// <summary>The named method, which must learn through one auxiliary ViT.</summary>
    public static IAuxiliaryMethod FindAuxiliary(string name) => Registry.Find(name) as IAuxiliaryMethod
        ?? throw new LearngeneException($"{name} does not learn through one auxiliary ViT (those that do: {string.Join(", ", Auxiliary.Select(m => m.Name))})", setting: "method");

    /// <summary>The method that reads the learngene file at <paramref name="path"/>, from its metadata.</summary>
    public static ILearngeneMethod OfFile(string path)
    {
        var meta = IO.SafeTensors.ReadMetadata(path);
        string format = meta.GetValueOrDefault("format", "");
        if (format != LearngeneFile.Format)
            throw new LearngeneException(format.Length == 0 ? $"{path} is not a learngene file (no Learngene metadata)" : $"{path} is a '{format}' file, not a learngene file");
        string method = meta.GetValueOrDefault("method", "");
        return Reading(method)
            ?? throw new LearngeneException($"{path}: unknown learngene method '{method}' (known: {string.Join(", ", Registry.All.SelectMany(m => m.FileMethods))})");
    }

    /// <summary>The registered method whose files carry <paramref name="method"/> in their metadata, or null.</summary>
    public static ILearngeneMethod? Reading(string method) =>
        Registry.All.FirstOrDefault(m => m.FileMethods.Contains(method, StringComparer.OrdinalIgnoreCase));
}
