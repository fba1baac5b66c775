// Showing a case's file: its bytes (from CasePageViewModel.openFile) in QuickLook, and the
// temporary files that needs, which live only as long as the preview.
import Foundation
import QuickLook
import SwiftUI
import UIKit
import UniformTypeIdentifiers

/// QuickLook reads only file URLs, so the bytes have to be written: with complete file
/// protection (unreadable while the phone is locked), in a directory excluded from backup,
/// deleted when the preview closes and when the app locks (AppModel.lock), and at launch in
/// case the app was killed during a preview.
enum OpenedFiles {
    private static var directory: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("opened", isDirectory: true)
    }

    static func write(_ bytes: Data, name: String, mediaType: String) throws -> URL {
        var root = directory
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try root.setResourceValues(values)
        // A folder per preview: the file keeps its own name (QuickLook shows it), and two files
        // of one name do not meet.
        let folder = root.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        var fileName = name.replacingOccurrences(of: "/", with: "-")
        if fileName.isEmpty || fileName.hasPrefix(".") { fileName = "bestand" + fileName }
        // QuickLook picks its viewer by the extension.
        if let ext = UTType(mimeType: mediaType)?.preferredFilenameExtension,
           (fileName as NSString).pathExtension.isEmpty {
            fileName += "." + ext
        }
        let url = folder.appendingPathComponent(fileName)
        try bytes.write(to: url, options: [.completeFileProtection])
        return url
    }

    static func remove(_ url: URL) {
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }

    static func removeAll() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// One written file on screen; the sheet that shows it deletes it when it closes.
struct OpenedFile: Identifiable {
    let url: URL
    let name: String
    var id: URL { url }
}

/// QLPreviewController over one file.
struct FilePreview: UIViewControllerRepresentable {
    let url: URL

    func makeUIViewController(context: Context) -> QLPreviewController {
        let controller = QLPreviewController()
        controller.dataSource = context.coordinator
        return controller
    }

    func updateUIViewController(_ controller: QLPreviewController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(url: url) }

    final class Coordinator: NSObject, QLPreviewControllerDataSource {
        let url: URL

        init(url: URL) { self.url = url }

        func numberOfPreviewItems(in controller: QLPreviewController) -> Int { 1 }

        func previewController(_ controller: QLPreviewController, previewItemAt index: Int) -> QLPreviewItem {
            url as NSURL
        }
    }
}
