namespace Learngene; public static class Placeholder {}
