namespace Learngene;

/// <summary>Anything a registry holds: found by name, listed with a description.</summary>
public interface INamed
{
    string Name { get; }
    string Description { get; }
}

/// <summary>Named things of one kind (model presets, methods, objectives, initializers…): looked up
/// case-insensitively with one clear error for an unknown name. <see cref="Add"/> lets a plugin or a test
/// register its own without touching this project's lists.</summary>
public sealed class Registry<T>(string kind, IEnumerable<T> items, string? alsoAccepted = null) where T : INamed
{
    readonly List<T> items = items.ToList();

    public IReadOnlyList<T> All => items;
    public IEnumerable<string> Names => items.Select(i => i.Name);

    public T? TryFind(string name) => items.FirstOrDefault(i => i.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    public T Find(string name) =>
        TryFind(name) ?? throw new LearngeneException($"unknown {kind} '{name}' (known: {string.Join(", ", Names)}{(alsoAccepted is null ? "" : "; or " + alsoAccepted)})");

    public bool Contains(string name) => TryFind(name) is not null;

    /// <summary>Adds an entry; a name already taken is an error (another plugin's entry is never replaced silently).</summary>
    public T Add(T item)
    {
        if (Contains(item.Name)) throw new LearngeneException($"a {kind} named '{item.Name}' is already registered");
        items.Add(item);
        return item;
    }

    /// <summary>Removes an entry added by <see cref="Add"/> (tests clean up after themselves).</summary>
    public void Remove(string name) => items.RemoveAll(i => i.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
