import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The dashboard: static files in the package (`Dashboard/`), served without a key (they hold
/// no data; the page asks the keyed API with the key in its address's fragment, `#key=…`).
enum Dashboard {
    static let files: [(path: String, resource: String, type: String)] = [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
    ]
    static var paths: [String] { files.map(\.path) }

    static func add(to router: Router<BasicRequestContext>) {
        for f in files {
            let url = Bundle.module.url(forResource: f.resource, withExtension: nil, subdirectory: "Dashboard")
            let body = url.flatMap { try? Data(contentsOf: $0) }.map { ByteBuffer(bytes: $0) }
            router.get(RouterPath(f.path)) { _, _ in
                guard let body else { return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "\(f.resource) is missing from the build"))) }
                return Response(status: .ok, headers: [.contentType: f.type, .cacheControl: "no-cache"], body: .init(byteBuffer: body))
            }
        }
    }
}
