-- The UN Network on Racial Discrimination and Protection of Minorities:
-- its members, co-chairs and Work Plan 2021+ (SPEC section 2).
-- Run by `workplan-admin seed` only into a database without a work plan.

SET LOCAL workplan.actor = 'seed';

INSERT INTO entity (code, name) VALUES
	('DESA', 'Department of Economic and Social Affairs'),
	('DOCO', 'Development Operations Coordination Office'),
	('DGC', 'Department of Global Communications'),
	('DPA', 'Department of Political Affairs'),
	('DPKO', 'Department of Peacekeeping Operations'),
	('ILO', 'International Labour Organization'),
	('OCHA', 'Office for the Coordination of Humanitarian Affairs'),
	('OHCHR', 'Office of the United Nations High Commissioner for Human Rights'),
	('OSAPG', 'Office of the Special Adviser on the Prevention of Genocide'),
	('PBSO', 'Peacebuilding Support Office'),
	('UNAIDS', 'Joint United Nations Programme on HIV/AIDS'),
	('UNAOC', 'United Nations Alliance of Civilizations'),
	('UNDP', 'United Nations Development Programme'),
	('UNEP', 'United Nations Environment Programme'),
	('UNHCR', 'Office of the United Nations High Commissioner for Refugees'),
	('UNESCO', 'United Nations Educational, Scientific and Cultural Organization'),
	('UNFPA', 'United Nations Population Fund'),
	('UNICEF', 'United Nations Children''s Fund'),
	('UNITAR', 'United Nations Institute for Training and Research'),
	('UNODC', 'United Nations Office on Drugs and Crime'),
	('UNWOMEN', 'United Nations Entity for Gender Equality and the Empowerment of Women'),
	('WFP', 'World Food Programme'),
	('WHO', 'World Health Organization');

INSERT INTO cochair_term (entity, kind, from_year, to_year) VALUES
	('OHCHR', 'permanent', 2012, NULL),
	('UNESCO', 'rotating', 2021, 2021);

INSERT INTO workplan (title, start_year, end_year)
VALUES ('Network Work Plan 2021+', 2021, 2025);

INSERT INTO cycle (label, workplan_id, start_year, end_year)
SELECT c.label, w.id, c.start_year, c.end_year
FROM workplan w,
     (VALUES ('2021', 2021, 2021), ('2022-2023', 2022, 2023), ('2024-2025', 2024, 2025))
	AS c (label, start_year, end_year)
WHERE w.title = 'Network Work Plan 2021+';

INSERT INTO pillar (number, workplan_id, name, status, inactive_reason)
SELECT p.number, w.id, p.name, p.status, p.reason
FROM workplan w,
     (VALUES (1, 'Leave No One Behind', 'active', NULL),
	     (2, 'Criminal Justice', 'active', NULL),
	     (3, 'Agenda for Protection', 'active', NULL),
	     (4, 'Intersectionality', 'active', NULL),
	     (5, 'Communications', 'active', NULL),
	     (6, 'Knowledge Hub', 'active', NULL),
	     (7, 'UN Internal Diversity', 'inactive',
	      'Pending the outcome of the Secretary-General''s Task Force on Addressing Racism at the UN'),
	     (8, 'Network Development', 'active', NULL))
	AS p (number, name, status, reason)
WHERE w.title = 'Network Work Plan 2021+';

INSERT INTO pillar_lead (pillar, entity, position) VALUES
	(1, 'WHO', 1),
	(2, 'UNODC', 1),
	(3, 'OHCHR', 1),
	(4, 'UNAIDS', 1),
	(5, 'DGC', 1), (5, 'UNFPA', 2),
	(6, 'UNHCR', 1),
	(8, 'OHCHR', 1), (8, 'UNESCO', 2);

-- The key actions of cycle 2021; each is led by its pillar's leads.
WITH a (pillar, ord, title) AS (VALUES
	(1, 1, 'Online comprehensive training targeting UN staff at field level'),
	(1, 2, 'Publication of case studies in combatting racial discrimination and strengthening protection of minorities from the UN country teams and humanitarian teams'),
	(2, 1, 'Statement to the 14th UN Congress on Crime Prevention and Criminal Justice'),
	(2, 2, 'Side-event on the margins of the 2021 UN Commission on Crime Prevention and Criminal Justice'),
	(3, 1, 'Strengthening minority protection and addressing racial discrimination in follow-up to the Secretary-General''s Call to Action on human rights, and laying the groundwork in UN prevention, security and peacekeeping'),
	(4, 1, 'Guidance note on intersectionality, racial discrimination and protection of minorities'),
	(4, 2, 'Library database of expert literature on intersectionality'),
	(5, 1, 'UN system Trello board for communications products and actions related to racial discrimination and minority rights'),
	(5, 2, 'Support for the 20th anniversary of the Durban Declaration and Programme of Action'),
	(6, 1, 'Shared platform for network members'),
	(6, 2, 'Capacity building initiatives'),
	(6, 3, 'Thematic webinars')
), ins AS (
	INSERT INTO action (pillar, cycle, year, title)
	SELECT pillar, '2021', 2021, title FROM a ORDER BY pillar, ord
	RETURNING id, pillar
)
INSERT INTO action_lead (action_id, entity, position)
SELECT ins.id, pl.entity, pl.position
FROM ins JOIN pillar_lead pl ON pl.pillar = ins.pillar;

INSERT INTO event (date, title, venue, audience, description) VALUES
	('2021-09-21',
	 'Side event with member states on the margins of the 48th session of the Human Rights Council',
	 'Geneva, margins of the 48th session of the Human Rights Council',
	 'member-states',
	 'Country-level programming against racial discrimination and for the protection of minorities, and the Network''s Checklist.');

INSERT INTO consultation (title, cycle, issued, due, subject_must_contain, formats, word_limit) VALUES
	('Call for inputs on the Network Work Plan 2022-2023', '2022-2023',
	 '2021-10-20', '2021-10-20', 'Work Plan', '{Word,PDF}', NULL);
