import CloakImage

@main
struct Cloak {
    static func main() {
        print("cloak: skeleton")
    }
}
