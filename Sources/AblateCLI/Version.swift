enum AblateVersion { static let string = "0.1.0" }
