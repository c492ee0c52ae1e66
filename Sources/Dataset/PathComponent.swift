import Foundation

/// The one rule for a name that becomes a folder or file name (corpus names, hashes read from manifests, …):
/// ASCII letters, digits, '.', '_' and '-', not starting with '.', at most `maxLength` characters. This keeps
/// every such name inside the folder it is appended to ("..", "/" and hidden files are impossible).
public enum PathComponent {
    public static let maxLength = 100

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxLength && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }
}
