namespace Learngene.Data;

/// <summary>Resolves a <c>--data</c> value: a catalog name (mnist, fashion-mnist) or
/// <c>imagefolder:PATH</c>, <c>cifar10:PATH</c>, <c>cifar100:PATH</c>, <c>idx:PATH</c>.</summary>
public static class DataSource
{
    public static DataSplits Load(string spec, DataCatalog catalog, int? imageSize = null, Action<string>? log = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new LearngeneException("no data set given", setting: "data");
        int colon = spec.IndexOf(':');
        if (colon < 0) return catalog.Load(spec, log);
        string kind = spec[..colon].ToLowerInvariant(), path = spec[(colon + 1)..];
        if (path.Length == 0) throw new LearngeneException($"data {spec}: a path is needed after '{kind}:'", setting: "data");
        return kind switch
        {
            "imagefolder" => ImageFolderDataset.Load(path, imageSize),
            "cifar10" => CifarDataset.Load(path, cifar100: false),
            "cifar100" => CifarDataset.Load(path, cifar100: true),
            "idx" => IdxDataset.Load(path, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)))),
            _ => throw new LearngeneException($"unknown data kind '{kind}' in {spec} (expected imagefolder, cifar10, cifar100 or idx)", setting: "data"),
        };
    }
}
