package infra

// Version is the project's release, the latest one CHANGELOG.md names (a test holds them
// together). The stack reports it as its output `version`: an output, not a tag, because a tag
// would update every tagged resource of every stack on each release.
const Version = "0.5.0"
