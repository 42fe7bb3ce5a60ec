import HTTPServer
import PortCatalog
import PortContract

/// Port's teams and users (`/v1/teams`, `/v1/users`): choices in ``Directory``.
extension PortAPI {
    func registerDirectoryRoutes(on router: inout PortRouter) {
        addRoute(
            &router,
            .get,
            "/v1/teams",
            route { (_, _) throws(PortError) in ok(["teams": .array(directory.teams)]) }
        )
        addRoute(
            &router,
            .post,
            "/v1/teams",
            route { (request, _) throws(PortError) in
                ok(["team": try directory.createTeam(try JSONBody(request).value)])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/teams/:name",
            route { (request, _) throws(PortError) in ok(["team": try directory.team(request.parameter("name")!)]) }
        )
        for (method, replace) in [(HTTPMethod.put, true), (.patch, false)] {
            addRoute(
                &router,
                method,
                "/v1/teams/:name",
                route { (request, _) throws(PortError) in
                    let body: JSONValue = replace ? try JSONBody(request).value : .object(try optionalObject(request))
                    return ok(["team": try directory.updateTeam(request.parameter("name")!, body, replace: replace)])
                }
            )
        }
        addRoute(
            &router,
            .delete,
            "/v1/teams/:name",
            route { (request, _) throws(PortError) in
                try directory.deleteTeam(request.parameter("name")!) { name in
                    let blueprints = catalog.models.keys
                    return runs.readEntities { store in
                        blueprints.reduce(0) { total, blueprint in
                            total
                                + store.entities(of: blueprint).filter { $0.teamNames.contains(name) }.count
                        }
                    }
                }
                return ok([:])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/users",
            route { (_, _) throws(PortError) in ok(["users": .array(directory.users)]) }
        )
        addRoute(
            &router,
            .post,
            "/v1/users/invite",
            route { (request, _) throws(PortError) in
                _ = try booleanQuery(request, "notify")
                try directory.invite(try JSONBody(request).value)
                return ok([:])
            }
        )
        addRoute(
            &router,
            .get,
            "/v1/users/:email",
            route { (request, _) throws(PortError) in ok(["user": try directory.user(request.parameter("email")!)]) }
        )
        addRoute(
            &router,
            .patch,
            "/v1/users/:email",
            route { (request, _) throws(PortError) in
                // Port's document puts the user's fields beside `ok`, not under `user`.
                let user = try directory.updateUser(request.parameter("email")!, .object(try optionalObject(request)))
                return ok(user.objectValue ?? [:])
            }
        )
        addRoute(
            &router,
            .delete,
            "/v1/users/:email",
            route { (request, _) throws(PortError) in
                try directory.deleteUser(request.parameter("email")!)
                return ok([:])
            }
        )
    }
}
