-- A version moves in one place: the API's UPDATE of a pillar or key
-- action (which also covers their leads, kept in other tables), and a
-- write that changes nothing is rolled back there. The triggers that also
-- bumped it go.
DROP TRIGGER pillar_version ON pillar;
DROP TRIGGER action_version ON action;
DROP FUNCTION bump_version();
