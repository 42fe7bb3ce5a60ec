public import PortContract
package import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's teams and users (`/v1/teams`, `/v1/users`), from the fixtures
/// (`fixtures/teams`, `fixtures/users`) and the API.
///
/// **Emulator choices** (`fixtures/README.md`): a team is keyed by its name and a user by
/// their email; membership is kept on the team (a user's `teams` is read from them); a
/// team's members must be users; an invited user is `INVITED` until… always (nobody logs
/// in); once the organization has teams, an entity's `team` must name them, and once it has
/// users, a run's `run_as` must name one (with none, any name is taken, as before #25).
public final class Directory: Sendable {
    /// A team as stored.
    public struct Team: Sendable, Equatable {
        let id: String
        var name: String
        var description: String?
        var users: [String]
        let createdAt: Date
        var updatedAt: Date
    }

    /// A user as stored.
    public struct User: Sendable, Equatable {
        let id: String
        let email: String
        var firstName: String
        var lastName: String
        var status: String
        var roles: [String]
        let createdAt: Date
        var updatedAt: Date
    }

    fileprivate struct State: Sendable {
        var teams: [String: Team] = [:]
        var teamOrder: [String] = []
        var users: [String: User] = [:]
        var userOrder: [String] = []
    }

    private let state: Mutex<State>
    private let initial: State
    /// Where changes are recorded (`--state-dir`).
    private let stateLog: StateLog?

    /// A directory holding the fixtures' teams and users: as Port's API takes them (a team's
    /// `users` as emails, a user's `roles` and `teams` as names) or as it answers them
    /// (`port-emulator import` writes those: members and roles as objects, read-only fields
    /// such as `status`, `providers` and `picture`, which are ignored but for `status`).
    public convenience init(teams: [JSONValue] = [], users: [JSONValue] = []) throws(PortError) {
        try self.init(teams: teams, users: users, stateLog: nil)
    }

    /// The fixtures' teams and users, every change recorded in `stateLog`.
    package init(teams: [JSONValue], users: [JSONValue], stateLog: StateLog?) throws(PortError) {
        self.stateLog = stateLog
        var state = State()
        let now = Date()
        var memberships: [(email: String, teams: [String])] = []
        for user in users {
            let (invitee, teams) = Self.fixtureUser(user)
            try Self.invite(invitee, at: now, into: &state)
            if let email = invitee["email"]?.stringValue {
                if let status = user["status"]?.stringValue { state.users[email]?.status = status }
                memberships.append((email, teams))
            }
        }
        for team in teams { try Self.create(Self.fixtureTeam(team), at: now, into: &state) }
        for (email, names) in memberships {
            for name in names {
                guard state.teams[name] != nil else { throw Self.teamNotFound(name) }
                if state.teams[name]?.users.contains(email) == false { state.teams[name]?.users.append(email) }
            }
        }
        initial = state
        self.state = Mutex(state)
    }

    /// A user fixture as an invite, and the teams it names.
    private static func fixtureUser(_ value: JSONValue) -> (JSONValue, [String]) {
        guard let object = value.objectValue else { return (value, []) }
        var invitee = JSONObject()
        for key in ["email", "firstName", "lastName"] { invitee[key] = object[key] }
        if let roles = object["roles"]?.arrayValue {
            invitee["roles"] = .array(roles.map { $0["name"] ?? $0 })
        }
        let teams = (object["teams"]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue }
        return (.object(invitee), teams)
    }

    /// A team fixture as `POST /v1/teams` takes it.
    private static func fixtureTeam(_ value: JSONValue) -> JSONValue {
        guard let object = value.objectValue else { return value }
        var team = JSONObject()
        for key in ["name", "description"] { team[key] = object[key] }
        if let users = object["users"]?.arrayValue { team["users"] = .array(users.map { $0["email"] ?? $0 }) }
        return .object(team)
    }

    /// Back to the fixtures (`POST /_emulator/reset`).
    public func reset() {
        state.withLock { state in
            state = initial
            stateLog.record(.directory, StateRecords.reset, [:])
        }
    }

    /// Runs `change` under the lock, then records every team and user (`--state-dir`).
    private func mutate<Result>(_ change: (inout State) throws(PortError) -> Result) throws(PortError) -> Result {
        try state.withLock { (state) throws(PortError) -> Result in
            let result = try change(&state)
            stateLog.record(.directory, "directory", Self.stateRecord(of: state))
            return result
        }
    }

    /// Whether the organization has teams: then an entity's `team` must name one.
    public var teamNames: Set<String>? {
        state.withLock { $0.teams.isEmpty ? nil : Set($0.teams.keys) }
    }

    /// The user's record as Port puts it in `trigger.by.user`, or `nil` when the
    /// organization has no users; 404 when it has users but not this one.
    public func triggeringUser(_ email: String) throws(PortError) -> JSONObject? {
        try state.withLock { (state) throws(PortError) -> JSONObject? in
            guard !state.users.isEmpty else { return nil }
            guard let user = state.users[email] else { throw Self.userNotFound(email) }
            return [
                "email": .string(user.email), "firstName": .string(user.firstName),
                "lastName": .string(user.lastName), "id": .string(user.id),
            ]
        }
    }

    // MARK: Teams

    /// Every team, oldest first.
    public var teams: [JSONValue] {
        state.withLock { state in state.teamOrder.compactMap { state.teams[$0].map { Self.json($0, state) } } }
    }

    /// The team, or 404.
    public func team(_ name: String) throws(PortError) -> JSONValue {
        try state.withLock { (state) throws(PortError) -> JSONValue in
            guard let team = state.teams[name] else { throw Self.teamNotFound(name) }
            return Self.json(team, state)
        }
    }

    /// Creates a team (`POST /v1/teams`).
    public func createTeam(_ body: JSONValue) throws(PortError) -> JSONValue {
        try mutate { (state) throws(PortError) -> JSONValue in
            let name = try Self.create(body, at: Date(), into: &state)
            return Self.json(state.teams[name]!, state)
        }
    }

    /// Replaces (`PUT`) or updates (`PATCH`) a team; a new name moves it.
    public func updateTeam(_ name: String, _ body: JSONValue, replace: Bool) throws(PortError) -> JSONValue {
        try mutate { (state) throws(PortError) -> JSONValue in
            guard var team = state.teams[name] else { throw Self.teamNotFound(name) }
            let object = try Self.teamBody(body, nameRequired: replace)
            if let newName = object["name"]?.stringValue, newName != name {
                guard state.teams[newName] == nil else { throw Self.teamTaken(newName) }
                team.name = newName
            }
            if replace || object["description"] != nil { team.description = object["description"]?.stringValue }
            if replace || object["users"] != nil { team.users = try Self.members(object, in: state) }
            team.updatedAt = Date()
            state.teams[name] = nil
            state.teams[team.name] = team
            state.teamOrder = state.teamOrder.map { $0 == name ? team.name : $0 }
            return Self.json(team, state)
        }
    }

    /// Deletes a team; `owns` says whether entities still name it (then 403 `has_dependents`).
    public func deleteTeam(_ name: String, owns: (String) -> Int) throws(PortError) {
        try mutate { (state) throws(PortError) in
            guard state.teams[name] != nil else { throw Self.teamNotFound(name) }
            let owned = owns(name)
            guard owned == 0 else {
                throw PortError(
                    status: 403,
                    code: "has_dependents",
                    message: "Team \"\(name)\" owns \(owned) entities; give them another team first",
                    rule: "team-no-entities"
                )
            }
            state.teams[name] = nil
            state.teamOrder.removeAll { $0 == name }
        }
    }

    // MARK: Users

    /// Every user, oldest first.
    public var users: [JSONValue] {
        state.withLock { state in state.userOrder.compactMap { state.users[$0].map { Self.json($0, state) } } }
    }

    /// The user, or 404.
    public func user(_ email: String) throws(PortError) -> JSONValue {
        try state.withLock { (state) throws(PortError) -> JSONValue in
            guard let user = state.users[email] else { throw Self.userNotFound(email) }
            return Self.json(user, state)
        }
    }

    /// Invites a user (`POST /v1/users/invite`, body `{invitee: {email, roles?, teams?}}`).
    public func invite(_ body: JSONValue) throws(PortError) {
        let object = try body.object(allowing: ["invitee"])
        guard let invitee = object["invitee"] else { throw .invalidRequest("body.invitee is required") }
        try mutate { (state) throws(PortError) in try Self.invite(invitee, at: Date(), into: &state) }
    }

    /// Sets a user's roles and teams (`PATCH /v1/users/{email}`).
    public func updateUser(_ email: String, _ body: JSONValue) throws(PortError) -> JSONValue {
        let object = try body.object(allowing: ["roles", "teams"])
        return try mutate { (state) throws(PortError) -> JSONValue in
            guard var user = state.users[email] else { throw Self.userNotFound(email) }
            if let roles = object["roles"] {
                guard let list = roles.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) else {
                    throw .invalidRequest("body.roles must be a non-empty array of role names")
                }
                user.roles = list.compactMap(\.stringValue)
            }
            if let teams = object["teams"] {
                let names = try Self.names(teams, at: "body.teams", in: state)
                for (name, var team) in state.teams {
                    let member = names.contains(name)
                    if member, !team.users.contains(email) { team.users.append(email) }
                    if !member { team.users.removeAll { $0 == email } }
                    state.teams[name] = team
                }
            }
            user.updatedAt = Date()
            state.users[email] = user
            return Self.json(user, state)
        }
    }

    /// Deletes a user and their memberships.
    public func deleteUser(_ email: String) throws(PortError) {
        try mutate { (state) throws(PortError) in
            guard state.users.removeValue(forKey: email) != nil else { throw Self.userNotFound(email) }
            state.userOrder.removeAll { $0 == email }
            for (name, var team) in state.teams where team.users.contains(email) {
                team.users.removeAll { $0 == email }
                state.teams[name] = team
            }
        }
    }
}

extension Directory {
    @discardableResult
    fileprivate static func create(
        _ body: JSONValue,
        at time: Date,
        into state: inout State
    ) throws(PortError)
        -> String
    {
        let object = try teamBody(body, nameRequired: true)
        let name = object["name"]!.stringValue!
        guard state.teams[name] == nil else { throw teamTaken(name) }
        state.teams[name] = Team(
            id: PortIdentifier.make(prefix: "team_"),
            name: name,
            description: object["description"]?.stringValue,
            users: try members(object, in: state),
            createdAt: time,
            updatedAt: time
        )
        state.teamOrder.append(name)
        return name
    }

    fileprivate static func invite(_ invitee: JSONValue, at time: Date, into state: inout State) throws(PortError) {
        let object = try invitee.object(allowing: ["email", "roles", "teams", "firstName", "lastName"])
        guard let email = object["email"]?.stringValue, isName(email), email.contains("@") else {
            throw .invalidRequest("invitee.email is required (an email address)")
        }
        guard state.users[email] == nil else {
            throw PortError(
                status: 409,
                code: "identifier_taken",
                message: "User \"\(email)\" is already in the organization",
                rule: "identifier-unique"
            )
        }
        let teams = try object["teams"].map { (value) throws(PortError) in
            try names(value, at: "invitee.teams", in: state)
        }
        let roles = object["roles"]?.arrayValue?.compactMap(\.stringValue) ?? ["Member"]
        let local = String(email.prefix { $0 != "@" })
        state.users[email] = User(
            id: "emulator|\(email)",
            email: email,
            firstName: object["firstName"]?.stringValue ?? local,
            lastName: object["lastName"]?.stringValue ?? "",
            status: "INVITED",
            roles: roles,
            createdAt: time,
            updatedAt: time
        )
        state.userOrder.append(email)
        for name in teams ?? [] { state.teams[name]?.users.append(email) }
    }

    fileprivate static func teamBody(_ body: JSONValue, nameRequired: Bool) throws(PortError) -> JSONObject {
        guard let object = body.objectValue else {
            throw .invalidRequest("body must be a JSON object, not \(body.typeName)")
        }
        if let name = object["name"] {
            guard let text = name.stringValue, isName(text) else {
                throw .invalidRequest(
                    "body.name must be at least 2 characters, without ; # / ? and not starting or ending with a space"
                )
            }
        } else if nameRequired {
            throw .invalidRequest("body.name is required")
        }
        if let description = object["description"], description != .null, description.stringValue == nil {
            throw .invalidRequest("body.description must be a string or null")
        }
        return object
    }

    /// The team's members: each an email of a user.
    fileprivate static func members(_ object: JSONObject, in state: State) throws(PortError) -> [String] {
        guard let value = object["users"] else { return [] }
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("body.users must be an array of user emails")
        }
        let emails = list.compactMap(\.stringValue)
        if let unknown = emails.first(where: { state.users[$0] == nil }) { throw userNotFound(unknown) }
        var seen: Set<String> = []
        return emails.filter { seen.insert($0).inserted }
    }

    fileprivate static func names(
        _ value: JSONValue,
        at field: String,
        in state: State
    ) throws(PortError)
        -> [String]
    {
        guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw .invalidRequest("\(field) must be an array of team names")
        }
        let names = list.compactMap(\.stringValue)
        if let unknown = names.first(where: { state.teams[$0] == nil }) { throw teamNotFound(unknown) }
        return names
    }

    /// Port's pattern for team names and emails: `^[^;#/\?\s][^;#/\?]*[^;#/\?\s]$`.
    fileprivate static func isName(_ text: String) -> Bool {
        let forbidden: Set<Character> = [";", "#", "/", "?"]
        guard text.count >= 2, !text.contains(where: forbidden.contains), let first = text.first,
            let last = text.last
        else { return false }
        return !first.isWhitespace && !last.isWhitespace
    }

    /// A team as Port's API answers it (no `description` when it has none: Port's document
    /// types it as a string).
    fileprivate static func json(_ team: Team, _ state: State) -> JSONValue {
        var object: JSONObject = [
            "id": .string(team.id), "name": .string(team.name), "provider": "port",
            "users": .array(
                team.users.compactMap { state.users[$0] }.map { user in
                    [
                        "email": .string(user.email), "firstName": .string(user.firstName),
                        "lastName": .string(user.lastName), "status": .string(user.status),
                    ]
                }
            ),
            "createdAt": PortTimestamp.format(team.createdAt), "updatedAt": PortTimestamp.format(team.updatedAt),
        ]
        object["description"] = team.description.map(JSONValue.string)
        return .object(object)
    }

    fileprivate static func json(_ user: User, _ state: State) -> JSONValue {
        let teams = state.teamOrder.filter { state.teams[$0]?.users.contains(user.email) == true }
        return [
            "id": .string(user.id), "email": .string(user.email), "firstName": .string(user.firstName),
            "lastName": .string(user.lastName), "status": .string(user.status), "type": "standard",
            "providers": ["port"], "teams": .array(teams.map(JSONValue.string)),
            "roles": .array(user.roles.map { ["name": .string($0)] }),
            "createdAt": PortTimestamp.format(user.createdAt), "updatedAt": PortTimestamp.format(user.updatedAt),
        ]
    }

    static func teamNotFound(_ name: String) -> PortError {
        PortError(status: 404, code: "not_found", message: "Team \"\(name)\" was not found", rule: "team-exists")
    }

    static func userNotFound(_ email: String) -> PortError {
        PortError(status: 404, code: "not_found", message: "User \"\(email)\" was not found", rule: "user-exists")
    }

    fileprivate static func teamTaken(_ name: String) -> PortError {
        PortError(
            status: 409,
            code: "identifier_taken",
            message: "A team named \"\(name)\" already exists",
            rule: "identifier-unique"
        )
    }
}

extension Directory {
    fileprivate static func stateRecord(of state: State) -> JSONObject {
        let teams = state.teamOrder.compactMap { state.teams[$0] }.map { team -> JSONValue in
            [
                "id": .string(team.id), "name": .string(team.name), "description": team.description.stateJSON,
                "users": .array(team.users.map(JSONValue.string)), "createdAt": team.createdAt.stateJSON,
                "updatedAt": team.updatedAt.stateJSON,
            ]
        }
        let users = state.userOrder.compactMap { state.users[$0] }.map { user -> JSONValue in
            [
                "id": .string(user.id), "email": .string(user.email), "firstName": .string(user.firstName),
                "lastName": .string(user.lastName), "status": .string(user.status),
                "roles": .array(user.roles.map(JSONValue.string)), "createdAt": user.createdAt.stateJSON,
                "updatedAt": user.updatedAt.stateJSON,
            ]
        }
        return ["teams": .array(teams), "users": .array(users)]
    }

    /// Applies one record of the directory (`--state-dir`'s load). Records nothing.
    package func restore(_ kind: String, _ fields: JSONObject) throws(StateCodecError) {
        switch kind {
        case StateRecords.reset: state.withLock { $0 = initial }
        case "directory":
            var restored = State()
            let record = try StateFields(.object(fields), "directory")
            for (index, item) in (record.value("teams").arrayValue ?? []).enumerated() {
                let team = try StateFields(item, "directory.teams[\(index)]")
                let name = try team.string("name")
                restored.teams[name] = Team(
                    id: try team.string("id"),
                    name: name,
                    description: try team.optionalString("description"),
                    users: try team.strings("users"),
                    createdAt: try team.date("createdAt"),
                    updatedAt: try team.date("updatedAt")
                )
                restored.teamOrder.append(name)
            }
            for (index, item) in (record.value("users").arrayValue ?? []).enumerated() {
                let user = try StateFields(item, "directory.users[\(index)]")
                let email = try user.string("email")
                restored.users[email] = User(
                    id: try user.string("id"),
                    email: email,
                    firstName: try user.string("firstName"),
                    lastName: try user.string("lastName"),
                    status: try user.string("status"),
                    roles: try user.strings("roles"),
                    createdAt: try user.date("createdAt"),
                    updatedAt: try user.date("updatedAt")
                )
                restored.userOrder.append(email)
            }
            state.withLock { $0 = restored }
        default: throw StateCodecError(field: "k", reason: "\"\(kind)\" is not a kind of the directory's records")
        }
    }

    /// Every team and user as one record, and the last log record it includes.
    package func stateSection() -> StateSection {
        let (copy, fence) = state.withLock { ($0, stateLog.fence) }
        return StateSection(
            store: .directory,
            fence: fence,
            records: [StateRecords.payload(.directory, "directory", Self.stateRecord(of: copy))]
        )
    }
}
