-- A schema a real application has, and the manual's dump-and-restore must survive: foreign keys with actions in both
-- directions (a child whose name sorts before its parent's, and a cycle), a trigger that writes two other tables,
-- views on views, routines and an event with DELIMITER blocks, a view whose DEFINER does not exist here, generated
-- columns, FULLTEXT and spatial indexes, a partitioned table, BLOB bytes and utf8mb4 beyond the BMP.
-- The parent `rental` is the biggest table, so that it is still loading (its LOCK TABLES held, in a dump's way)
-- when another session creates `payment`, its child: the load's ERROR 1100 race.
DROP DATABASE IF EXISTS fk_actions;
CREATE DATABASE fk_actions CHARACTER SET utf8mb4;
USE fk_actions;
CREATE TABLE address (id INT PRIMARY KEY, city VARCHAR(40), customer_id INT NULL, KEY (customer_id)) ENGINE=InnoDB;
CREATE TABLE customer (id INT PRIMARY KEY, name VARCHAR(40), address_id INT NULL,
  CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (id) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB;
ALTER TABLE address ADD CONSTRAINT fk_address_customer FOREIGN KEY (customer_id) REFERENCES customer (id)
  ON DELETE SET NULL ON UPDATE CASCADE;
CREATE TABLE rental (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, amount DECIMAL(6,2), note TEXT,
  doubled DECIMAL(8,2) AS (amount * 2) STORED, FULLTEXT KEY ft_note (note),
  CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB;
CREATE TABLE payment (id INT PRIMARY KEY AUTO_INCREMENT, rental_id INT NULL, amount DECIMAL(6,2), raw BLOB,
  spot POINT NOT NULL, SPATIAL KEY (spot),
  CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (id) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB;
CREATE TABLE audit (id INT PRIMARY KEY AUTO_INCREMENT, what VARCHAR(80)) ENGINE=InnoDB;
CREATE TABLE yearly (id INT, y INT, PRIMARY KEY (id, y))
  PARTITION BY RANGE (y) (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE);
INSERT INTO address VALUES (1, 'Ürümqi 🐉', NULL), (2, 'Paris', NULL);
INSERT INTO customer VALUES (1, 'Zoë 😀', 1), (2, 'Bob', 2);
UPDATE address SET customer_id = id;
INSERT INTO rental (customer_id, amount, note)
  SELECT 1 + seq % 2, seq % 100, CONCAT('rental number ', seq, ' of a long history') FROM seq_1_to_30000;
DELIMITER ;;
CREATE TRIGGER rental_paid AFTER INSERT ON rental FOR EACH ROW
BEGIN
  INSERT INTO audit (what) VALUES (CONCAT('rental ', NEW.id));
  INSERT INTO payment (rental_id, amount, spot) VALUES (NEW.id, NEW.amount, POINT(NEW.id, 1));
END;;
CREATE PROCEDURE total_paid(OUT total DECIMAL(12,2)) BEGIN SELECT SUM(amount) INTO total FROM payment; END;;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;;
CREATE EVENT nightly_trim ON SCHEDULE EVERY 1 DAY DISABLE DO BEGIN DELETE FROM audit WHERE id < 0; END;;
DELIMITER ;
INSERT INTO rental (customer_id, amount, note) VALUES (1, 3.50, 'first'), (2, 4.25, 'second'), (1, 1, 'third');
UPDATE payment SET raw = UNHEX('00FF0A0D27225C1A');
INSERT INTO yearly VALUES (1, 1999), (2, 2026);
CREATE VIEW paid_by_customer AS
  SELECT r.customer_id, SUM(p.amount) AS paid FROM rental r JOIN payment p ON p.rental_id = r.id GROUP BY r.customer_id;
CREATE VIEW big_payers AS SELECT * FROM paid_by_customer WHERE paid > 1;
CREATE DEFINER = `nobody_here`@`%` VIEW audit_ids AS SELECT id FROM audit;
